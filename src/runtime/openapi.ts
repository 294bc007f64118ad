import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The OpenAPI document at `/openapi.json`, generated from the routes' own schemas (the zod schemas
 * their handlers parse with), so it cannot drift from the code. Must be registered before routes.
 * It is public: it describes the API, not data, and holds nothing the README does not.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'page-stats',
        version,
        description: 'Self-hosted page-view analytics. Errors are JSON: `{ "error": "…", "details": ["…"] }`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'page_stats_session', description: 'dashboard session (POST /api/login)' },
        },
      },
    },
    // Only routes that carry a schema (summary, tags) are part of the document.
    transform: ({ schema, url }) => ({ schema: schema ?? { hide: true }, url }),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
