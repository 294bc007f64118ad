import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type Clock, systemClock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { RollupStore } from '../ports/rollup-store.js';
import { noSessions } from '../ports/session-store.js';
import { sha256 } from '../services/admin-api/auth.js';
import { adminGuard } from '../services/admin-api/guard.js';
import type { Consolidator } from '../services/consolidator/consolidator.js';
import { Adapters } from './adapters.js';
import type { Config } from './config.js';
import { resolveCredentials } from './credentials.js';
import { createHttpServer, registerHealthRoutes, registerUi } from './http-server.js';
import { Lifecycle } from './lifecycle.js';
import { newLocalToken } from './local-control.js';
import { openConsolidator } from './one-shot.js';
import { registerOpenApi } from './openapi.js';
import { adminRole } from './roles/admin.js';
import { consolidatorRole } from './roles/consolidator.js';
import { ingestRole } from './roles/ingest.js';
import type { AdminAccess, Check, Role, RoleContext, RoleModule } from './roles/module.js';
import { processingRole } from './roles/processing.js';
import { unavailableService } from './unavailable.js';

export type { Role } from './roles/module.js';

export interface RunningApp {
  http: FastifyInstance;
  url: string;
  lifecycle: Lifecycle;
  /** the event store this process uses, if any of its roles does (tests read it to wait for processing) */
  eventStore: EventStore | undefined;
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

/** Built in this order; shut down in this order once the server stopped taking requests. */
const ROLES: ReadonlyArray<[Role, (ctx: RoleContext) => Promise<RoleModule>]> = [
  ['ingest', ingestRole],
  ['processing', processingRole],
  ['consolidator', consolidatorRole],
  ['admin', adminRole],
];

/** Builds the roles of this process from one context, and serves them over HTTP. */
export async function composeApp(config: Config, options: ComposeOptions): Promise<RunningApp> {
  const { roles, logger } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const adapters = new Adapters(config, logger, registry);
  const lifecycle = new Lifecycle(logger, config.shutdownTimeoutMs);
  // A process that takes page views into Kafka is ready when Kafka is: an InfluxDB or PostgreSQL
  // outage must not take POST /page-view out of the load balancer, nor stop it from starting.
  // /readyz still reports the stores. (Embedded, every store is the one database the log is in.)
  const pageViewsFirst = roles.has('ingest') && config.kafka !== undefined;
  const ctx = context(config, options, adapters, registry, pageViewsFirst);
  try {
    const built: Array<[Role, RoleModule]> = [];
    for (const [role, build] of ROLES) if (roles.has(role)) built.push([role, await build(ctx)]);
    const modules = built.map(([, m]) => m);

    const { http, url, address } = await serve(config, modules, { registry, lifecycle, pageViewsFirst, guard: (await ctx.access()).guard });
    for (const m of modules) await m.start(url);
    logger.info({ address, roles: [...roles] }, 'listening');

    // Readiness flips to 503 as soon as shutdown starts (lifecycle.shuttingDown); then, in order:
    lifecycle.onShutdown('stop taking requests and finish those in flight', async () => await http.close());
    for (const [role, m] of built) lifecycle.onShutdown(`stop ${role}`, async () => await m.stop());
    lifecycle.onShutdown('close adapters', async () => await adapters.close());

    const eventStore = ['processing', 'consolidator', 'admin'].some((r) => roles.has(r as Role)) ? await adapters.eventStore() : undefined;
    return { http, url, lifecycle, eventStore, close: () => lifecycle.shutdown('close') };
  } catch (err) {
    await adapters.close().catch(() => {});
    throw err;
  }
}

/**
 * One HTTP server for the given role modules: their routes, the UI where one serves it, health
 * and metrics; listening on PORT. What `page-stats` runs, and what the benchmarks measure.
 */
export async function serve(
  config: Config,
  modules: readonly RoleModule[],
  options: { registry: Registry; lifecycle: Lifecycle; pageViewsFirst: boolean; guard: AdminAccess['guard'] },
): Promise<{ http: FastifyInstance; url: string; address: string }> {
  const http = await createHttpServer({
    logger: options.lifecycle.logger,
    maxBodyBytes: config.maxBodyBytes,
    trustProxy: config.trustProxy,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  await registerOpenApi(http);
  for (const m of modules) await m.routes(http);
  if (modules.some((m) => m.servesUi)) await registerUi(http);
  const checks: Record<string, Check> = Object.assign({}, ...modules.map((m) => m.checks));
  const stores: Record<string, Check> = Object.assign({}, ...modules.map((m) => m.stores));
  registerHealthRoutes(http, {
    registry: options.registry,
    checks: options.pageViewsFirst ? checks : { ...checks, ...stores },
    informational: options.pageViewsFirst ? stores : {},
    isShuttingDown: () => options.lifecycle.shuttingDown,
    requireAdmin: options.guard,
  });
  const address = await http.listen({ port: config.port, host: config.host });
  return { http, url: `http://127.0.0.1:${(http.server.address() as { port: number }).port}`, address };
}

/** The shared resources of the roles, each built once by whichever role asks first. */
function context(config: Config, options: ComposeOptions, adapters: Adapters, registry: Registry, pageViewsFirst: boolean): RoleContext {
  const { logger, roles } = options;
  const clock = options.clock ?? systemClock;
  let rollups: Promise<RollupStore> | undefined;
  let consolidator: Promise<Consolidator> | undefined;
  let access: Promise<AdminAccess> | undefined;
  const ctx: RoleContext = {
    config,
    logger,
    clock,
    registry,
    adapters,
    roles,
    schedule: options.schedule ?? false,
    rollups: () =>
      (rollups ??= (async () => {
        const store = await adapters.rollupStore();
        try {
          await store.migrate();
        } catch (err) {
          // With Kafka, `page-stats migrate` owns the schema: ingest must start (and take page
          // views) while PostgreSQL is down; its admin routes answer 503 until it is back.
          if (!(pageViewsFirst && unavailableService(err) !== undefined)) throw err;
          logger.warn({ err }, 'rollup_store_unavailable_at_start');
        }
        return store;
      })()),
    consolidator: () =>
      (consolidator ??= (async () => {
        await ctx.rollups();
        return await openConsolidator(config, adapters, logger.child({ role: 'consolidator' }), registry, { clock, migrated: true });
      })()),
    access: () => (access ??= adminAccess(config, options, adapters, clock)),
  };
  return ctx;
}

/**
 * The admin credentials, resolved once: with the admin role, the password, token and sessions
 * (generated on first start in embedded mode); without it, only ADMIN_TOKEN, which still keeps
 * /metrics private.
 */
async function adminAccess(config: Config, options: ComposeOptions, adapters: Adapters, clock: Clock): Promise<AdminAccess> {
  const now = (): number => clock.now();
  if (options.roles.has('admin')) {
    const credentials = await resolveCredentials({
      password: config.admin.password,
      token: config.admin.token,
      dataDir: adapters.usesEmbedded ? config.dataDir : undefined,
      sessions: await adapters.sessionStore(),
    });
    if (credentials.generated) options.onGeneratedCredentials?.(credentials.generated);
    const localToken = adapters.usesEmbedded ? newLocalToken() : undefined;
    const hashes = { ...credentials.hashes, localTokenHash: localToken === undefined ? undefined : sha256(localToken) };
    return { hashes, guard: adminGuard(hashes, now), localToken };
  }
  if (config.admin.token === undefined) return { hashes: undefined, guard: undefined, localToken: undefined };
  const { hashes } = await resolveCredentials({ password: undefined, token: config.admin.token, dataDir: undefined, sessions: noSessions });
  return { hashes: undefined, guard: adminGuard(hashes, now), localToken: undefined };
}
