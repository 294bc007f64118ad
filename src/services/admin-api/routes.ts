import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidInput } from '../../domain/errors.js';
import { GRANULARITIES, type Granularity } from '../../domain/periods.js';
import type { EventStore } from '../../ports/event-store.js';
import type { RollupStore } from '../../ports/rollup-store.js';
import type { CredentialHashes } from './auth.js';
import { adminGuard } from './guard.js';
import { parseRangeQuery } from './query-params.js';

export interface AdminApiDeps {
  rollups: RollupStore;
  /** for the realtime panel; absent where this process has no event store */
  events: EventStore | undefined;
  hashes: CredentialHashes;
  now: () => number;
  timezone: string;
  /** runs consolidation now; absent where this process cannot */
  consolidate: ((range: { from?: string | undefined; to?: string | undefined }) => Promise<unknown>) | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The admin read API the dashboard and scripts use. Every route here is admin-only. */
export async function adminApiRoutes(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  app.addHook('preHandler', adminGuard(deps.hashes, deps.now));

  for (const granularity of GRANULARITIES) {
    app.get(`/aggregated-data/region-${granularity}`, async (req) => {
      const q = parseRangeQuery(req.query, granularity, deps.timezone, deps.now());
      const rows = await deps.rollups.query({ granularity, ...q });
      return {
        granularity,
        timezone: deps.timezone,
        startTime: iso(q.start),
        endTime: iso(q.end),
        ...(q.region === undefined ? {} : { region: q.region }),
        ...(q.pageName === undefined ? {} : { pageName: q.pageName }),
        rows: rows.map((r) => ({ periodStart: iso(r.periodStart), region: r.region, pageName: r.pageName, views: r.views })),
      };
    });
  }

  app.get('/aggregated-data/regions', async () => ({ regions: await deps.rollups.regions() }));

  app.get('/aggregated-data/bots', async (req) => {
    const q = parseRangeQuery(req.query, 'daily' satisfies Granularity, deps.timezone, deps.now());
    const rows = await deps.rollups.bots(q.start, q.end);
    return {
      timezone: deps.timezone,
      startTime: iso(q.start),
      endTime: iso(q.end),
      total: rows.reduce((n, r) => n + r.hits, 0),
      rows: rows.map((r) => ({ periodStart: iso(r.periodStart), hits: r.hits })),
    };
  });

  const Realtime = z.strictObject({ minutes: z.coerce.number().int().min(1).max(1_440).default(30) });
  app.get('/aggregated-data/realtime', async (req) => {
    const parsed = Realtime.safeParse(req.query ?? {});
    if (!parsed.success) throw invalidInput('invalid query parameters', ['minutes: a whole number from 1 to 1440']);
    const minutes = parsed.data.minutes;
    const since = deps.now() - minutes * 60_000;
    const rows = deps.events === undefined ? [] : await deps.events.recentCounts(since);
    return {
      minutes,
      since: iso(since),
      total: rows.reduce((n, r) => n + r.views, 0),
      rows: rows.map((r) => ({ minuteStart: iso(r.minuteStart), region: r.region, pageName: r.pageName, views: r.views })),
    };
  });

  const ConsolidateQuery = z.strictObject({ from: z.string().optional(), to: z.string().optional() });
  app.post('/admin/consolidate', async (req) => {
    const parsed = ConsolidateQuery.safeParse(req.query ?? {});
    if (!parsed.success) throw invalidInput('invalid query parameters', ['allowed are from=YYYY-MM-DD and to=YYYY-MM-DD']);
    if (deps.consolidate === undefined) throw invalidInput('this process does not run consolidation');
    return await deps.consolidate(parsed.data);
  });
}
