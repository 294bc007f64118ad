import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidInput } from '../../domain/errors.js';
import type { WeekStart } from '../../domain/periods.js';
import type { EventStore } from '../../ports/event-store.js';
import type { RollupStore } from '../../ports/rollup-store.js';
import type { ImportDeps } from '../import/importer.js';
import type { AdminGuard } from './guard.js';
import { importRoutes } from './import-routes.js';
import { fail, parseDayRange, parseQuery } from './query-params.js';
import { documented } from './route-docs.js';
import { rowRoutes } from './row-routes.js';
import { statsRoutes } from './stats-routes.js';

export interface AdminApiDeps {
  rollups: RollupStore;
  /** for the realtime panel; absent where this process has no event store */
  events: EventStore | undefined;
  /** who may read: built once per process with its credentials */
  requireAdmin: AdminGuard;
  now: () => number;
  timezone: string;
  weekStart: WeekStart;
  /** runs consolidation now; absent where this process cannot */
  consolidate: ((request: { from?: string | undefined; to?: string | undefined; recompute?: boolean | undefined }) => Promise<unknown>) | undefined;
  /** imports files and consolidates their days; absent where this process cannot consolidate */
  importer?: Omit<ImportDeps, 'store'> | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const BotsQuery = z.strictObject({
  startTime: z.string().optional().describe('ISO-8601 or epoch milliseconds'),
  endTime: z.string().optional().describe('ISO-8601 or epoch milliseconds; a bare date includes that day'),
});
const RealtimeQuery = z.strictObject({
  minutes: z.coerce.number().int().min(1).max(1_440).default(30).describe('window in minutes (1–1440)'),
  rows: z.enum(['true', 'false']).default('true').describe('`false` leaves out the per (minute, region, page) rows'),
});
const TOP_PAGES = 10;

/** The admin read API the dashboard and scripts use. Every route here is admin-only. */
export async function adminApiRoutes(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  app.addHook('preHandler', deps.requireAdmin);
  await rowRoutes(app, deps);
  await statsRoutes(app, deps);
  // A plugin of its own: its streaming body parsers apply to its routes only.
  await app.register(importRoutes, { importer: deps.importer, rollups: deps.rollups, timezone: deps.timezone });

  app.get(
    '/aggregated-data/regions',
    documented({ summary: 'Regions with consolidated views', tags: ['stats'], response: z.object({ regions: z.array(z.string()) }) }),
    async () => ({ regions: await deps.rollups.regions() }),
  );

  app.get('/aggregated-data/bots', documented({ summary: 'Filtered bot hits per day', tags: ['stats'], query: BotsQuery }), async (req) => {
    const q = parseQuery(BotsQuery, req.query);
    const problems: string[] = [];
    const days = parseDayRange(q, deps.timezone, deps.now(), problems);
    if (days === undefined || problems.length > 0) fail(problems);
    const rows = await deps.rollups.bots(days.start, days.end);
    return {
      timezone: deps.timezone,
      startTime: iso(days.start),
      endTime: iso(days.end),
      total: rows.reduce((n, r) => n + r.hits, 0),
      rows: rows.map((r) => ({ periodStart: iso(r.periodStart), hits: r.hits })),
    };
  });

  app.get(
    '/aggregated-data/realtime',
    documented({ summary: 'Page views processed in the last minutes, before consolidation', tags: ['stats'], query: RealtimeQuery }),
    async (req) => {
      const q = parseQuery(RealtimeQuery, req.query);
      const since = deps.now() - q.minutes * 60_000;
      const firstMinute = Math.floor(since / 60_000) * 60_000;
      const rows = deps.events === undefined ? [] : await deps.events.recentCounts(since);
      const perMinute = new Map<number, number>();
      for (let m = firstMinute; m <= deps.now(); m += 60_000) perMinute.set(m, 0);
      const perPage = new Map<string, number>();
      for (const r of rows) {
        perMinute.set(r.minuteStart, (perMinute.get(r.minuteStart) ?? 0) + r.views);
        perPage.set(r.pageName, (perPage.get(r.pageName) ?? 0) + r.views);
      }
      const topPages = [...perPage]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, TOP_PAGES)
        .map(([key, views]) => ({ key, views }));
      return {
        minutes: q.minutes,
        since: iso(since),
        total: rows.reduce((n, r) => n + r.views, 0),
        perMinute: [...perMinute].sort((a, b) => a[0] - b[0]).map(([m, views]) => ({ minuteStart: iso(m), views })),
        topPages,
        ...(q.rows === 'true' ? { rows: rows.map((r) => ({ minuteStart: iso(r.minuteStart), region: r.region, pageName: r.pageName, views: r.views })) } : {}),
      };
    },
  );

  const ConsolidateQuery = z.strictObject({
    from: z.string().optional().describe('first day to recompute, YYYY-MM-DD in REPORT_TIMEZONE'),
    to: z.string().optional().describe('last day (inclusive), YYYY-MM-DD'),
    recompute: z.enum(['true', 'false']).optional().describe('`true`: recompute the late-arrival window from the event store'),
  });
  app.post(
    '/admin/consolidate',
    documented({
      summary: 'Consolidate now',
      description:
        'Without parameters: fold in what processing recorded (or recompute the window when RECOMPUTE_INTERVAL has passed). With from/to or recompute=true: recompute those days from the event store.',
      tags: ['admin'],
      query: ConsolidateQuery,
    }),
    async (req) => {
      const parsed = ConsolidateQuery.safeParse(req.query ?? {});
      if (!parsed.success) throw invalidInput('invalid query parameters', ['allowed are from=YYYY-MM-DD, to=YYYY-MM-DD and recompute=true']);
      if (deps.consolidate === undefined) throw invalidInput('this process does not run consolidation');
      const { from, to, recompute } = parsed.data;
      return await deps.consolidate({ from, to, recompute: recompute === 'true' });
    },
  );
}
