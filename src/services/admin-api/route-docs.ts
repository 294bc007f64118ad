import type { FastifySchema, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';

/**
 * Route options that document a route in the OpenAPI document from the same zod schemas the
 * handler parses with. Fastify's own validation and serialisation are switched off for these
 * routes: the handler's zod parse gives the API's error messages, and responses are plain JSON.
 */
export function documented(doc: {
  summary: string;
  description?: string;
  tags: string[];
  query?: z.ZodObject;
  response?: z.ZodType;
  /** other media types the route can answer with, besides JSON */
  produces?: string[];
  public?: boolean;
}): RouteShorthandOptions {
  return {
    // summary, tags and security are OpenAPI keywords that Fastify passes through to @fastify/swagger
    schema: {
      summary: doc.summary,
      ...(doc.description === undefined ? {} : { description: doc.description }),
      tags: doc.tags,
      ...(doc.query === undefined ? {} : { querystring: z.toJSONSchema(doc.query, { io: 'input', target: 'openapi-3.0' }) }),
      ...(doc.response === undefined ? {} : { response: { 200: z.toJSONSchema(doc.response, { target: 'openapi-3.0' }) } }),
      ...(doc.produces === undefined ? {} : { produces: ['application/json', ...doc.produces] }),
      ...(doc.public ? {} : { security: [{ bearerAuth: [] }, { sessionCookie: [] }] }),
    } as FastifySchema,
    validatorCompiler: () => () => true,
    serializerCompiler: () => (data) => JSON.stringify(data),
  };
}

export const ErrorBody = z.object({ error: z.string(), details: z.array(z.string()) });
