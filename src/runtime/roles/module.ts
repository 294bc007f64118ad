import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../ports/clock.js';
import type { RollupStore } from '../../ports/rollup-store.js';
import type { CredentialHashes } from '../../services/admin-api/auth.js';
import type { Consolidator } from '../../services/consolidator/consolidator.js';
import type { Adapters } from '../adapters.js';
import type { Config } from '../config.js';

export type Role = 'ingest' | 'processing' | 'consolidator' | 'admin';

export type Check = () => Promise<boolean>;

/** What a role is to the process that runs it: checks, routes, and a start and a stop. */
export interface RoleModule {
  /** readiness checks this role decides on */
  checks: Record<string, Check>;
  /** the stores it uses: they decide readiness, except where page views must not wait for them */
  stores: Record<string, Check>;
  /** whether it serves the dashboard and the tracker */
  servesUi: boolean;
  routes(http: FastifyInstance): Promise<void>;
  /** after the server listens, at `url` */
  start(url: string): Promise<void>;
  /** after the server stopped taking requests: drain, finish, flush */
  stop(): Promise<void>;
}

/** The admin credentials of this process, resolved once for every role that checks them. */
export interface AdminAccess {
  hashes: CredentialHashes | undefined;
  /** preHandler for admin-only routes and /metrics; absent where no credential applies */
  guard: ((req: FastifyRequest, reply: FastifyReply) => Promise<void>) | undefined;
  /** the token `page-stats consolidate` uses to reach a running embedded server */
  localToken: string | undefined;
}

/** What every role is built from; shared resources are opened once, whoever asks first. */
export interface RoleContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  registry: Registry;
  adapters: Adapters;
  roles: ReadonlySet<Role>;
  /** run the consolidator on CONSOLIDATE_SCHEDULE in this process (embedded mode) */
  schedule: boolean;
  /** the rollup store, migrated */
  rollups(): Promise<RollupStore>;
  consolidator(): Promise<Consolidator>;
  access(): Promise<AdminAccess>;
}

/** A role with nothing to do at some step. */
export const quiet: Pick<RoleModule, 'checks' | 'stores' | 'servesUi' | 'routes' | 'start' | 'stop'> = {
  checks: {},
  stores: {},
  servesUi: false,
  routes: async () => {},
  start: async () => {},
  stop: async () => {},
};
