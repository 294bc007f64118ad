import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { type Clock, systemClock } from '../ports/clock.js';
import type { EventPublisher } from '../ports/event-bus.js';
import type { EventStore } from '../ports/event-store.js';
import type { RollupStore } from '../ports/rollup-store.js';
import { noSessions } from '../ports/session-store.js';
import { sha256 } from '../services/admin-api/auth.js';
import { adminGuard, csrfGuard } from '../services/admin-api/guard.js';
import { adminApiRoutes } from '../services/admin-api/routes.js';
import { sessionRoutes } from '../services/admin-api/session-routes.js';
import { Consolidator } from '../services/consolidator/consolidator.js';
import { scheduleConsolidation } from '../services/consolidator/schedule.js';
import { createRegionResolver } from '../services/ingest/region.js';
import { ingestRoutes } from '../services/ingest/routes.js';
import { ProcessingService } from '../services/processing/processor.js';
import { Adapters } from './adapters.js';
import type { Config } from './config.js';
import { resolveCredentials } from './credentials.js';
import { createHttpServer, registerHealthRoutes, registerUi } from './http-server.js';
import { Lifecycle } from './lifecycle.js';
import { newLocalToken, publishControl } from './local-control.js';
import { consolidatorSettings } from './one-shot.js';
import { registerOpenApi } from './openapi.js';
import { unavailableService } from './unavailable.js';

export type Role = 'ingest' | 'processing' | 'consolidator' | 'admin';

export interface RunningApp {
  http: FastifyInstance;
  url: string;
  lifecycle: Lifecycle;
  adapters: Adapters;
  publisher: EventPublisher | undefined;
  eventStore: EventStore | undefined;
  rollups: RollupStore | undefined;
  consolidator: Consolidator | undefined;
  processing: ProcessingService | undefined;
  close(): Promise<void>;
}

export interface ComposeOptions {
  roles: ReadonlySet<Role>;
  logger: Logger;
  clock?: Clock;
  /** run the consolidator on CONSOLIDATE_SCHEDULE (embedded mode) */
  schedule?: boolean;
  /** called once with generated admin credentials, to print them */
  onGeneratedCredentials?: (c: { password: string; token: string; file: string }) => void;
}

/** Wires the roles of this process to adapters and serves them over HTTP. */
export async function composeApp(config: Config, options: ComposeOptions): Promise<RunningApp> {
  const { roles, logger } = options;
  const clock = options.clock ?? systemClock;
  const now = (): number => clock.now();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const adapters = new Adapters(config, logger, registry);
  const lifecycle = new Lifecycle(logger, config.shutdownTimeoutMs);

  try {
    // processing records what it stored in the rollup database, for the incremental consolidation
    const needsRollups = roles.has('admin') || roles.has('consolidator') || roles.has('processing');
    const needsEvents = roles.has('processing') || roles.has('consolidator') || roles.has('admin');
    const rollups = needsRollups ? await adapters.rollupStore() : undefined;
    try {
      await rollups?.migrate();
    } catch (err) {
      // With Kafka, `page-stats migrate` owns the schema: ingest must start (and take page
      // views) while PostgreSQL is down; its admin routes answer 503 until it is back.
      if (!(roles.has('ingest') && config.kafka !== undefined && unavailableService(err) !== undefined)) throw err;
      logger.warn({ err }, 'rollup_store_unavailable_at_start');
    }
    const eventStore = needsEvents ? await adapters.eventStore() : undefined;
    const publisher = roles.has('ingest') ? await adapters.publisher() : undefined;

    const consolidator =
      roles.has('consolidator') && rollups !== undefined && eventStore !== undefined
        ? new Consolidator(eventStore, rollups, clock, consolidatorSettings(config), logger.child({ role: 'consolidator' }), registry)
        : undefined;
    const processing =
      roles.has('processing') && eventStore !== undefined && rollups !== undefined
        ? new ProcessingService(await adapters.consumer(), eventStore, rollups, logger.child({ role: 'processing' }), registry, {
            lateArrivalWindowMs: config.lateArrivalWindowMs,
          })
        : undefined;

    const http = await createHttpServer({
      logger,
      maxBodyBytes: config.maxBodyBytes,
      trustProxy: config.trustProxy,
      requestTimeoutMs: config.requestTimeoutMs,
    });
    await registerOpenApi(http);
    const checks: Record<string, () => Promise<boolean>> = {};
    const informational: Record<string, () => Promise<boolean>> = {};
    // A process that takes page views into Kafka is ready when Kafka is: an InfluxDB or
    // PostgreSQL outage must not take POST /page-view out of the load balancer. /readyz still
    // reports the stores. (Embedded, every store is the one database the event log is in.)
    const stores = publisher !== undefined && config.kafka !== undefined ? informational : checks;
    if (publisher) checks.eventLog = () => publisher.ready();
    if (eventStore) stores.eventStore = () => eventStore.ready();
    if (rollups) stores.rollupStore = () => rollups.ready();
    if (processing) checks.processing = () => processing.ready();

    let guard: ReturnType<typeof adminGuard> | undefined;
    let localToken: string | undefined;
    if (roles.has('admin') && rollups !== undefined) {
      const credentials = await resolveCredentials({
        password: config.admin.password,
        token: config.admin.token,
        dataDir: adapters.usesEmbedded ? config.dataDir : undefined,
        sessions: await adapters.sessionStore(),
      });
      if (credentials.generated) options.onGeneratedCredentials?.(credentials.generated);
      if (adapters.usesEmbedded) localToken = newLocalToken();
      const hashes = { ...credentials.hashes, localTokenHash: localToken === undefined ? undefined : sha256(localToken) };
      guard = adminGuard(hashes, now);
      http.addHook('onRequest', csrfGuard());
      await http.register(sessionRoutes, {
        hashes,
        sessionTtlMs: config.admin.sessionTtlMs,
        now,
        timezone: config.reportTimeZone,
        weekStart: config.weekStart,
      });
      await http.register(adminApiRoutes, {
        rollups,
        events: eventStore,
        hashes,
        now,
        timezone: config.reportTimeZone,
        weekStart: config.weekStart,
        consolidate: consolidator ? (request) => consolidator.run(request) : undefined,
      });
    }
    // The tracker comes from wherever page views go; the dashboard with it.
    if (roles.has('ingest') || roles.has('admin')) await registerUi(http);
    if (publisher) {
      await http.register(ingestRoutes, {
        publisher,
        clock,
        lateArrivalWindowMs: config.lateArrivalWindowMs,
        resolveRegion: createRegionResolver(config.regionHeader),
        allowedOrigins: config.allowedOrigins,
        rateLimitPerMinute: config.rateLimitPerMinute,
        registry,
      });
    }
    if (guard === undefined && config.admin.token !== undefined) {
      // Roles without the admin API still keep /metrics behind the token when one is configured.
      const { hashes } = await resolveCredentials({ password: undefined, token: config.admin.token, dataDir: undefined, sessions: noSessions });
      guard = adminGuard(hashes, now);
    }
    registerHealthRoutes(http, { registry, checks, informational, isShuttingDown: () => lifecycle.shuttingDown, requireAdmin: guard as never });

    await processing?.start();
    const scheduled =
      options.schedule && consolidator
        ? scheduleConsolidation(consolidator, config.consolidateSchedule, config.reportTimeZone, logger)
        : undefined;

    const address = await http.listen({ port: config.port, host: config.host });
    logger.info({ address, roles: [...roles] }, 'listening');

    // Readiness flips to 503 as soon as shutdown starts (lifecycle.shuttingDown); then, in order:
    lifecycle.onShutdown('stop scheduling', async () => scheduled?.stop());
    lifecycle.onShutdown('stop taking requests and finish those in flight', async () => await http.close());
    lifecycle.onShutdown('drain processing', async () => await processing?.stop());
    lifecycle.onShutdown('wait for a running consolidation', async () => {
      await consolidator?.idle();
    });
    lifecycle.onShutdown('close adapters', async () => await adapters.close());

    const port = (http.server.address() as { port: number }).port;
    if (localToken !== undefined) {
      const unpublish = publishControl(config.dataDir, `http://127.0.0.1:${port}`, localToken);
      lifecycle.onShutdown('remove the local control file', async () => unpublish());
    }
    return {
      http,
      url: `http://127.0.0.1:${port}`,
      lifecycle,
      adapters,
      publisher,
      eventStore,
      rollups,
      consolidator,
      processing,
      close: () => lifecycle.shutdown('close'),
    };
  } catch (err) {
    await adapters.close().catch(() => {});
    throw err;
  }
}
