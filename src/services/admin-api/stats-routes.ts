import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { dataEnd, decomposeDays, localDate, periodStarts, previousDays, type Granularity, type WeekStart } from '../../domain/periods.js';
import type { RollupStore } from '../../ports/rollup-store.js';
import { CONTENT_TYPE, streamPages } from './csv.js';
import { fail, FILTER_PARAMS, parseDayRange, parseFilters, parseQuery } from './query-params.js';
import { documented } from './route-docs.js';

export interface StatsDeps {
  rollups: RollupStore;
  now: () => number;
  timezone: string;
  weekStart: WeekStart;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const StatsQuery = z.strictObject(FILTER_PARAMS);
const SeriesQuery = z.strictObject({
  interval: z.enum(['day', 'week', 'month']).default('day').describe('one point per day, week or month'),
  ...FILTER_PARAMS,
});
const BreakdownQuery = z.strictObject({
  by: z.enum(['page', 'region']).describe('what the rows are'),
  ...FILTER_PARAMS,
  search: z.string().max(512).optional().describe('only keys that contain this text, ignoring case'),
  limit: z.coerce.number().int().min(1).max(1_000).default(10).describe('rows to return (1–1000)'),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0).describe('rows to skip'),
  format: z.enum(['json', 'csv']).default('json').describe('`csv` streams every matching row (limit and offset ignored)'),
});

const Range = { startTime: z.string(), endTime: z.string() };
const Summary = z.object({
  ...Range,
  timezone: z.string(),
  views: z.number().describe('page views in the range'),
  previous: z.object({ ...Range, views: z.number() }).describe('the same number of days just before'),
  pages: z.number().describe('distinct pages with views'),
  regions: z.number().describe('distinct regions with views'),
  botHits: z.number().describe('filtered bot hits in the range (all regions and pages)'),
});
const Series = z.object({
  interval: z.enum(['day', 'week', 'month']),
  timezone: z.string(),
  ...Range,
  points: z.array(z.object({ periodStart: z.string(), views: z.number() })),
});
const Breakdown = z.object({
  by: z.enum(['page', 'region']),
  ...Range,
  total: z.number().describe('views of every matching key'),
  distinct: z.number().describe('number of matching keys'),
  rows: z.array(z.object({ key: z.string(), views: z.number() })),
  others: z.number().describe('total minus the views of the returned rows'),
});

const INTERVAL: Record<'day' | 'week' | 'month', Granularity> = { day: 'daily', week: 'weekly', month: 'monthly' };
const CSV_PAGE = 1_000;

/**
 * Exact answers sized by the answer, not the data: a range is read as whole years, quarters,
 * months, weeks and edge days of the narrowest rollup that can answer (see decomposeDays and stats-sql).
 */
export async function statsRoutes(app: FastifyInstance, deps: StatsDeps): Promise<void> {
  const parse = <S extends z.ZodObject>(schema: S, query: unknown) => {
    const q = parseQuery(schema, query) as z.output<S> & z.output<typeof StatsQuery>;
    const problems: string[] = [];
    const now = deps.now();
    const days = parseDayRange(q, deps.timezone, now, problems);
    const filter = parseFilters(q, problems);
    if (problems.length > 0 || days === undefined) fail(problems);
    // Nothing is stored after the end of the data, so a period that runs into it is read whole.
    const end = dataEnd(now, deps.timezone);
    const decompose = (d: typeof days) => decomposeDays(d, deps.timezone, deps.weekStart, end);
    return { q, days, filter, pieces: decompose(days), decompose };
  };

  app.get(
    '/aggregated-data/summary',
    documented({ summary: 'Total views, the previous period, distinct pages and regions, bot hits', tags: ['stats'], query: StatsQuery, response: Summary }),
    async (req): Promise<z.infer<typeof Summary>> => {
      const { days, filter, pieces, decompose } = parse(StatsQuery, req.query);
      const before = previousDays(days, deps.timezone);
      const [views, previous, pages, regions, botHits] = await Promise.all([
        deps.rollups.views(pieces, filter),
        deps.rollups.views(decompose(before), filter),
        deps.rollups.distinct('page', pieces, filter),
        deps.rollups.distinct('region', pieces, filter),
        deps.rollups.botHits(days.start, days.end),
      ]);
      return {
        startTime: iso(days.start),
        endTime: iso(days.end),
        timezone: deps.timezone,
        views,
        previous: { startTime: iso(before.start), endTime: iso(before.end), views: previous },
        pages,
        regions,
        botHits,
      };
    },
  );

  app.get(
    '/aggregated-data/timeseries',
    documented({
      summary: 'Views per day, week or month, zeros included',
      description: 'A period cut by the range counts only its days inside the range, so the points add up to the summary.',
      tags: ['stats'],
      query: SeriesQuery,
      response: Series,
    }),
    async (req): Promise<z.infer<typeof Series>> => {
      const { q, days, filter } = parse(SeriesQuery, req.query);
      const granularity = INTERVAL[q.interval];
      const rows = await deps.rollups.series({ interval: granularity, ...days, timeZone: deps.timezone, weekStart: deps.weekStart, filter });
      const views = new Map(rows.map((r) => [r.periodStart, r.views]));
      return {
        interval: q.interval,
        timezone: deps.timezone,
        startTime: iso(days.start),
        endTime: iso(days.end),
        points: periodStarts(granularity, days.start, days.end, deps.timezone, deps.weekStart).map((start) => ({
          periodStart: iso(start),
          views: views.get(start) ?? 0,
        })),
      };
    },
  );

  app.get(
    '/aggregated-data/breakdown',
    documented({
      summary: 'Top pages or regions by views, with the total, the number of keys and the rest',
      description: 'Rows by views descending, ties by key. `format=csv` streams every matching row.',
      tags: ['stats'],
      query: BreakdownQuery,
      response: Breakdown,
      produces: ['text/csv'],
    }),
    async (req, reply) => {
      const { q, days, filter, pieces } = parse(BreakdownQuery, req.query);
      const base = { by: q.by, pieces, filter, search: q.search };
      if (q.format === 'csv') {
        async function* pages() {
          for (let offset = 0; ; offset += CSV_PAGE) {
            const page = await deps.rollups.breakdown({ ...base, limit: CSV_PAGE, offset });
            yield page.rows;
            if (page.rows.length < CSV_PAGE) return;
          }
        }
        const name = `${q.by === 'page' ? 'pages' : 'regions'}-${localDate(days.start, deps.timezone)}-${localDate(days.end - 1, deps.timezone)}.csv`;
        return await reply
          .type(CONTENT_TYPE.csv)
          .header('content-disposition', `attachment; filename="${name}"`)
          .send(
            streamPages(
              pages(),
              'csv',
              [q.by, 'views'],
              (r) => [r.key, r.views],
              (r) => r,
            ),
          );
      }
      const result = await deps.rollups.breakdown({ ...base, limit: q.limit, offset: q.offset });
      const shown = result.rows.reduce((n, r) => n + r.views, 0);
      const body: z.infer<typeof Breakdown> = {
        by: q.by,
        startTime: iso(days.start),
        endTime: iso(days.end),
        total: result.total,
        distinct: result.distinct,
        rows: result.rows,
        others: result.total - shown,
      };
      return body;
    },
  );
}
