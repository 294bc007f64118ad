import Fastify from 'fastify';
import { Registry } from 'prom-client';
import type { EventPublisher } from '../../src/ports/event-bus.js';
import { systemClock } from '../../src/ports/clock.js';
import { loadConfig } from '../../src/runtime/config.js';
import { createHttpServer, registerHealthRoutes } from '../../src/runtime/http-server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createRegionResolver } from '../../src/services/ingest/region.js';
import { ingestRoutes } from '../../src/services/ingest/routes.js';

/**
 * Steps between the bare `node:http` baseline and `page-stats ingest`, to show where an ingest
 * request's time goes (not goals, diagnostics):
 *   fastify        plain Fastify, one route answering 202 with a small JSON body
 *   ingest-no-log  the whole ingest HTTP stack as the composition wires it (helmet, CORS, rate-limit
 *                  plugin, body parser, validation, bot and region checks, metrics), with an event
 *                  log that acknowledges at once instead of Kafka
 */
const mode = process.argv[2];
const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

if (mode === 'fastify') {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post('/page-view', async (_req, reply) => await reply.code(202).send({ accepted: 1 }));
  await app.listen({ port, host });
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => void app.close().then(() => process.exit(0)));
} else if (mode === 'ingest-no-log') {
  const config = loadConfig({ ...process.env, RATE_LIMIT_PER_MINUTE: '0' });
  const logger = createLogger(config.logLevel);
  const registry = new Registry();
  const instant: EventPublisher = {
    publish: async () => {},
    ready: async () => true,
    close: async () => {},
  };
  const app = await createHttpServer({ logger, maxBodyBytes: config.maxBodyBytes, trustProxy: config.trustProxy });
  await app.register(ingestRoutes, {
    publisher: instant,
    clock: systemClock,
    lateArrivalWindowMs: config.lateArrivalWindowMs,
    resolveRegion: createRegionResolver(config.regionHeader),
    allowedOrigins: config.allowedOrigins,
    rateLimitPerMinute: config.rateLimitPerMinute,
    registry,
  });
  registerHealthRoutes(app, { registry, checks: {}, isShuttingDown: () => false, requireAdmin: undefined });
  await app.listen({ port, host });
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => void app.close().then(() => process.exit(0)));
} else {
  process.stderr.write('usage: http-stack.ts fastify|ingest-no-log\n');
  process.exit(2);
}
