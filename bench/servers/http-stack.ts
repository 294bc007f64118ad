import Fastify from 'fastify';
import { Registry } from 'prom-client';
import type { EventPublisher } from '../../src/ports/event-bus.js';
import { systemClock } from '../../src/ports/clock.js';
import { loadConfig } from '../../src/runtime/config.js';
import { serve } from '../../src/runtime/composition.js';
import { Lifecycle } from '../../src/runtime/lifecycle.js';
import { createLogger } from '../../src/runtime/logger.js';
import { ingestModule } from '../../src/runtime/roles/ingest.js';

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
  // The ingest role and the server exactly as `page-stats ingest` builds them, on a log that acknowledges at once.
  const lifecycle = new Lifecycle(logger, config.shutdownTimeoutMs);
  const { http } = await serve(config, [ingestModule(instant, { config, clock: systemClock, registry })], {
    registry,
    lifecycle,
    pageViewsFirst: true,
    guard: undefined,
  });
  lifecycle.onShutdown('close', async () => await http.close());
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => void lifecycle.shutdown(s).then(() => process.exit(0)));
} else {
  process.stderr.write('usage: http-stack.ts fastify|ingest-no-log\n');
  process.exit(2);
}
