import { existsSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import helmet from 'helmet';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AppError } from '../domain/errors.js';
import type { AdminGuard } from '../services/admin-api/guard.js';
import { trustFunction, type ProxyTrust } from './proxy-trust.js';
import { outageError } from './unavailable.js';

export interface HttpOptions {
  logger: Logger;
  maxBodyBytes: number;
  trustProxy: ProxyTrust;
  /** a request (headers and body) must arrive within this; default 30 s */
  requestTimeoutMs?: number;
}

/** Answers that carry admin data or session state: never stored by a browser or a shared cache. */
const PRIVATE_PATHS = /^\/(?:aggregated-data|admin|api)(?:\/|$|\?)/;
const HSTS = 'max-age=31536000; includeSubDomains';

/** Built UI assets: `dist/dashboard` and `dist/tracker`, next to the compiled server. */
export const UI_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');

/** The Fastify instance every role serves from, with errors mapped to JSON in one place. */
export async function createHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const trust = trustFunction(options.trustProxy);
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.maxBodyBytes,
    ...(trust === false ? {} : { trustProxy: trust }),
    // Slow clients: a request must arrive whole (headers and body) within requestTimeout, its
    // headers sooner, or Node answers 408 and closes the socket; a connection that sends nothing
    // is a request whose headers never come. Node checks this every connectionsCheckingInterval,
    // so the interval follows the timeout. No connectionTimeout (socket idle time): it would also
    // cut a long POST /admin/consolidate while the server computes the answer. keepAliveTimeout
    // stays above nginx's upstream keepalive (60 s) so nginx never reuses a socket being closed.
    requestTimeout,
    keepAliveTimeout: 72_000,
    http: {
      headersTimeout: Math.min(requestTimeout, 20_000),
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
    },
    // The original design's tracker posts to /api/page-view (its nginx stripped /api/; ours
    // does too): one route, so the rate limit and CORS stay those of POST /page-view.
    rewriteUrl: (req) => (req.url !== undefined && /^\/api\/page-view(?:\?|$)/.test(req.url) ? req.url.slice(4) : (req.url ?? '/')),
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
  });
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const mapped = toResponse(err);
    if (mapped.status >= 500) req.log.error({ err }, 'request_failed');
    if (mapped.retryAfter !== undefined) void reply.header('retry-after', String(mapped.retryAfter));
    // A CSV or NDJSON export that failed before its first byte set its own type: the error is JSON.
    void reply.removeHeader('content-disposition');
    void reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route for ${req.method} ${req.url.split('?')[0]}`, details: [] });
  });
  await app.register(cookie);
  app.addHook('onRequest', (req, reply, done) => {
    void reply.headers(SECURITY_HEADERS);
    if (req.protocol === 'https') void reply.header('strict-transport-security', HSTS);
    if (PRIVATE_PATHS.test(req.url)) void reply.header('cache-control', 'no-store');
    done();
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, context) => ({
      statusCode: 429,
      error: `rate limit exceeded: at most ${context.max} requests per ${context.after}`,
      details: [],
    }),
  });
  return app as unknown as FastifyInstance;
}

interface ErrorResponse {
  status: number;
  body: { error: string; details: string[]; code?: string };
  retryAfter?: number;
}

/**
 * The one place errors become responses: coded errors (and outages, coded on the way) by their
 * code; the framework's own refusals by their status; anything else is a 500 that says no more.
 */
function toResponse(err: FastifyError | AppError): ErrorResponse {
  if (err instanceof AppError) return codedResponse(err);
  const outage = outageError(err);
  if (outage !== undefined) return codedResponse(outage);
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: 'request body too large', details: [err.message] } };
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: { error: 'unsupported content type: send application/json or text/plain', details: [] } };
  }
  if (err.validation !== undefined) return { status: 400, body: { error: 'invalid request', details: [err.message] } };
  if (status === 429) return { status, body: { error: err.message || 'rate limit exceeded', details: [] } };
  if (status >= 400 && status < 500) return { status, body: { error: err.message, details: [] } };
  return { status: 500, body: { error: 'internal error', details: [] } };
}

function codedResponse(err: AppError): ErrorResponse {
  return {
    status: err.status,
    body: { error: err.message, details: err.details, code: err.code },
    ...(err.retryAfterSeconds === undefined ? {} : { retryAfter: err.retryAfterSeconds }),
  };
}

export interface HealthDeps {
  registry: Registry;
  /** what readiness depends on */
  checks: Record<string, () => Promise<boolean>>;
  /** reported by /readyz without deciding it */
  informational?: Record<string, () => Promise<boolean>>;
  isShuttingDown: () => boolean;
  /** admin guard for /metrics; absent where the role has no admin credentials */
  requireAdmin: AdminGuard | undefined;
}

/** `/healthz` (alive), `/readyz` (the dependencies it decides on reachable), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const run = (checks: Record<string, () => Promise<boolean>>) =>
      Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const));
    const [entries, others] = await Promise.all([run(deps.checks), run(deps.informational ?? {})]);
    const checks = Object.fromEntries([...entries, ...others]);
    const ok = !deps.isShuttingDown() && entries.every(([, up]) => up);
    return await reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : deps.isShuttingDown() ? 'shutting_down' : 'unavailable', checks });
  });
  app.get('/metrics', { ...(deps.requireAdmin ? { preHandler: deps.requireAdmin } : {}) }, async (_req, reply) => {
    return await reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
}

/** The dashboard at `/` and the tracker at `/tracker.js`, from the UI build. */
export async function registerUi(app: FastifyInstance, distDir: string = UI_DIST): Promise<void> {
  const tracker = join(distDir, 'tracker');
  const dashboard = join(distDir, 'dashboard');
  if (existsSync(join(tracker, 'tracker.js'))) {
    await app.register(async (scope) => {
      await scope.register(fastifyStatic, { root: tracker, serve: false });
      scope.get(
        '/tracker.js',
        async (_req, reply) =>
          // sendFile sets cache-control itself: a header set before it would be overwritten.
          await reply.sendFile('tracker.js', { maxAge: 3_600_000, cacheControl: true }),
      );
    });
  }
  if (existsSync(join(dashboard, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: dashboard,
      prefix: '/',
      index: ['index.html'],
      wildcard: false,
      // Hashed asset names never change content; index.html must be revalidated to pick up a release.
      setHeaders: (res: FastifyReply, path: string) => {
        res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else {
    app.get('/', async (_req, reply) => await reply.type('text/plain').send('page-stats is running; the dashboard is not built (run npm run build).'));
  }
}

/**
 * Helmet's headers, computed once: they depend on nothing in the request (the tracker is loaded
 * by other sites, so resources are cross-origin; HSTS is added per request, over HTTPS only).
 * Building them per request (as @fastify/helmet does) was a third of an ingest request's time.
 */
const SECURITY_HEADERS: Record<string, string> = (() => {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        // Plain-HTTP installs on a LAN must keep loading their own assets.
        upgradeInsecureRequests: null,
      },
    },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    // Sent per request, only over HTTPS: on plain HTTP the header is ignored at best, and a LAN
    // install reached by name would be locked out of plain HTTP for a year once it gets TLS once.
    strictTransportSecurity: false,
  })(res.req, res, () => {});
  return Object.fromEntries(Object.entries(res.getHeaders()).map(([name, value]) => [name, String(value)]));
})();
