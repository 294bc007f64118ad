import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { AppError, invalidInput } from '../../domain/errors.js';
import { MAX_BATCH, normaliseEvent, type PageViewEvent } from '../../domain/event.js';
import type { Clock } from '../../ports/clock.js';
import type { EventPublisher } from '../../ports/event-bus.js';
import { registerJsonBodyParser } from './body.js';
import { isBotUserAgent } from './bots.js';
import type { RegionSource } from './region.js';
import { idempotencyKey, requestIdSource } from './request-id.js';

export interface IngestDeps {
  publisher: EventPublisher;
  clock: Clock;
  lateArrivalWindowMs: number;
  resolveRegion: (source: RegionSource) => string;
  allowedOrigins: string[];
  rateLimitPerMinute: number;
  registry: Registry;
}

const PAGE_VIEW = '/page-view';

/** Browsers send origins serialised (lower case, no default port); other clients may not. */
function serialisedOrigin(origin: string): string {
  return URL.canParse(origin) ? new URL(origin).origin : origin;
}

/** ingest-service: `POST /page-view`, the public write path. */
export async function ingestRoutes(app: FastifyInstance, deps: IngestDeps): Promise<void> {
  const accepted = new Counter({
    name: 'page_stats_ingest_events_total',
    help: 'Events acknowledged with 202, by kind',
    labelNames: ['kind'] as const,
    registers: [deps.registry],
  });
  const rejected = new Counter({
    name: 'page_stats_ingest_rejected_requests_total',
    help: 'Requests answered with an error, by reason',
    labelNames: ['reason'] as const,
    registers: [deps.registry],
  });
  // Hooks in callback form and counters bound to their labels once: this path runs per page view.
  app.addHook('onResponse', (_req, reply, done) => {
    if (reply.statusCode >= 400) rejected.inc({ reason: String(reply.statusCode) });
    done();
  });
  const acceptedViews = accepted.labels('page_view');
  const acceptedBots = accepted.labels('bot');

  const nextRequestId = requestIdSource();
  registerJsonBodyParser(app);
  const anyOrigin = deps.allowedOrigins.length === 0;
  const allowed = new Set(deps.allowedOrigins);
  // CORS with options fixed at start, in a scope of its own under /page-view: @fastify/cors adds
  // its hook to this scope's routes only, so admin routes never carry CORS headers, and a
  // delegator (which rebuilt the options on every request) is not needed.
  await app.register(
    async (scope) => {
      // The plugin's preflight route is `OPTIONS *`, here /page-view/*: only /page-view itself answers.
      scope.addHook('onRequest', (req, reply, done) => {
        if (req.method === 'OPTIONS' && req.routeOptions.url !== PAGE_VIEW) reply.callNotFound();
        else done();
      });
      await scope.register(cors, { origin: anyOrigin ? '*' : deps.allowedOrigins, methods: ['POST'], maxAge: 86_400 });
      scope.options('/', { prefixTrailingSlash: 'no-slash', schema: { hide: true } }, async (_req, reply) => reply.callNotFound());
      scope.post(
        '/',
        { prefixTrailingSlash: 'no-slash', config: { rateLimit: deps.rateLimitPerMinute > 0 ? { max: deps.rateLimitPerMinute, timeWindow: 60_000 } : false } },
        pageView,
      );
    },
    { prefix: PAGE_VIEW },
  );

  async function pageView(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const key = idempotencyKey(req.headers['idempotency-key']);
    const origin = req.headers.origin;
    if (!anyOrigin && origin !== undefined && !allowed.has(serialisedOrigin(origin))) {
      throw new AppError('forbidden', `origin ${origin} is not in ALLOWED_ORIGINS`);
    }
    const body: unknown = req.body;
    const items = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && body.length === 0) throw invalidInput('empty batch: send at least one event');
    if (items.length > MAX_BATCH) {
      throw invalidInput(`batch too large: ${items.length} events, at most ${MAX_BATCH} per request`);
    }
    const now = deps.clock.now();
    const bot = isBotUserAgent(req.headers['user-agent']);
    let derived: string | undefined;
    const derivedRegion = (): string => (derived ??= deps.resolveRegion({ ip: req.ip, headers: req.headers }));
    const events: PageViewEvent[] = [];
    const problems: string[] = [];
    items.forEach((item, i) => {
      const needsRegion = typeof item === 'object' && item !== null && (item as { region?: unknown }).region === undefined;
      const result = normaliseEvent(item, {
        now,
        lateArrivalWindowMs: deps.lateArrivalWindowMs,
        derivedRegion: needsRegion ? derivedRegion() : '',
        bot,
      });
      if (result.ok) events.push(result.value);
      else problems.push(...result.problems.map((p) => (Array.isArray(body) ? `[${i}].${p}` : p)));
    });
    // All or nothing: one bad event refuses the whole request.
    if (problems.length > 0) {
      throw invalidInput(items.length === 1 ? 'invalid event' : `${problems.length} problem(s) in the batch; nothing was stored`, problems);
    }
    const requestId = key ?? nextRequestId();
    events.forEach((e, index) => {
      e.requestId = requestId;
      e.index = index;
    });
    try {
      // A keyed request goes to its key's partition, where processing meets its retries.
      await deps.publisher.publish(events, { key });
    } catch (cause) {
      if (cause instanceof AppError) throw cause;
      throw new AppError('event_log_unavailable', 'the event log is unavailable; nothing was stored, retry later', {
        cause,
        retryAfterSeconds: 5,
      });
    }
    (bot ? acceptedBots : acceptedViews).inc(events.length);
    return await reply.code(202).send({ accepted: events.length });
  }
}
