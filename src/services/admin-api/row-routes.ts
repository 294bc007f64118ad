import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GRANULARITIES, type Granularity } from '../../domain/periods.js';
import type { RollupQuery, RollupRow, RollupStore, RowKey } from '../../ports/rollup-store.js';
import { CONTENT_TYPE, streamPages } from './csv.js';
import { fail, FILTER_PARAMS, parseFilters, parseQuery, parseRange, type DefaultSpan } from './query-params.js';
import { documented } from './route-docs.js';

export interface RowDeps {
  rollups: RollupStore;
  now: () => number;
  timezone: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const RowsQuery = z.strictObject({
  ...FILTER_PARAMS,
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000).describe('rows per page (1–100000)'),
  cursor: z.string().max(2_048).optional().describe('`nextCursor` of the previous page'),
  format: z.enum(['json', 'csv', 'ndjson']).default('json').describe('`csv` and `ndjson` stream every row of the range'),
});

const Row = z.object({ periodStart: z.string(), region: z.string(), pageName: z.string(), views: z.number() });
const Rows = z.object({
  granularity: z.enum(['daily', 'weekly', 'monthly']),
  timezone: z.string(),
  startTime: z.string(),
  endTime: z.string(),
  region: z.string().optional(),
  pageName: z.string().optional(),
  rows: z.array(Row),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
});

/** The keys of a JSON page before its rows. */
type RowsHead = Omit<z.infer<typeof Rows>, 'rows' | 'nextCursor'>;

/** Default span when `startTime` is absent: enough periods to draw a useful chart. */
const DEFAULT_SPAN: Record<Granularity, DefaultSpan> = { daily: { days: 30 }, weekly: { weeks: 12 }, monthly: { months: 12 } };
/** Rows read per round trip while streaming. */
const STREAM_PAGE = 5_000;

/** The cursor is the last row's key, opaque to clients (base64url JSON). */
function encodeCursor(row: RowKey): string {
  return Buffer.from(JSON.stringify([row.periodStart, row.region, row.pageName])).toString('base64url');
}

function decodeCursor(text: string, problems: string[]): RowKey | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 3 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && typeof value[2] === 'string') {
      return { periodStart: value[0] as number, region: value[1], pageName: value[2] };
    }
  } catch {
    // reported below
  }
  problems.push('cursor: not a cursor this API gave out (pass nextCursor unchanged)');
  return undefined;
}

const toJson = (r: RollupRow) => ({ periodStart: iso(r.periodStart), region: r.region, pageName: r.pageName, views: r.views });

/**
 * One JSON page of up to `limit` rows, read STREAM_PAGE rows at a time: each read asks for one row
 * more than it keeps, which tells whether another page exists. Yields the rows, then returns the
 * page's `nextCursor` (null when the range has no more rows).
 */
async function* jsonPage(rollups: RollupStore, base: RollupQuery, limit: number, cursor: RowKey | undefined): AsyncGenerator<RollupRow[], string | null> {
  let after = cursor;
  let remaining = limit;
  for (;;) {
    const want = Math.min(STREAM_PAGE, remaining);
    const rows = await rollups.query({ ...base, limit: want + 1, after });
    const page = rows.length > want ? rows.slice(0, want) : rows;
    yield page;
    remaining -= page.length;
    after = page.at(-1);
    if (rows.length <= want || after === undefined) return null;
    if (remaining === 0) return encodeCursor(after);
  }
}

/**
 * The page as JSON text, written as it is read: `rows` is the only key after the head's, then
 * `nextCursor`, so a 100,000-row page never exists whole in memory.
 */
async function* jsonBody(
  head: RowsHead,
  first: IteratorResult<RollupRow[], string | null>,
  rest: AsyncGenerator<RollupRow[], string | null>,
): AsyncGenerator<string> {
  yield `${JSON.stringify(head).slice(0, -1)},"rows":[`;
  let step = first;
  let comma = '';
  while (step.done !== true) {
    if (step.value.length > 0) {
      yield comma + step.value.map((r) => JSON.stringify(toJson(r))).join(',');
      comma = ',';
    }
    step = await rest.next();
  }
  yield `],"nextCursor":${JSON.stringify(step.value)}}`;
}

/**
 * `GET /aggregated-data/region-{daily,weekly,monthly}`: every rollup row overlapping the range,
 * a page at a time (keyset paging on the primary key's order), or streamed as CSV or NDJSON.
 */
export async function rowRoutes(app: FastifyInstance, deps: RowDeps): Promise<void> {
  for (const granularity of GRANULARITIES) {
    app.get(
      `/aggregated-data/region-${granularity}`,
      documented({
        summary: `Rollup rows per ${granularity === 'daily' ? 'day' : granularity.slice(0, -2)}, region and page`,
        description: 'Every period that overlaps [startTime, endTime), sorted by periodStart, region, pageName.',
        tags: ['rows'],
        query: RowsQuery,
        response: Rows,
        produces: ['text/csv', 'application/x-ndjson'],
      }),
      async (req, reply) => {
        const q = parseQuery(RowsQuery, req.query);
        const problems: string[] = [];
        const range = parseRange(q, deps.timezone, deps.now(), DEFAULT_SPAN[granularity], problems);
        const filter = parseFilters(q, problems);
        const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, problems);
        if (problems.length > 0 || range === undefined) fail(problems);
        const base: RollupQuery = { granularity, ...range, ...filter };

        if (q.format !== 'json') {
          async function* pages() {
            let from: RowKey | undefined;
            for (;;) {
              const page = await deps.rollups.query({ ...base, limit: STREAM_PAGE, after: from });
              yield page;
              const last = page.at(-1);
              if (last === undefined || page.length < STREAM_PAGE) return;
              from = last;
            }
          }
          const name = `region-${granularity}-${iso(range.start).slice(0, 10)}-${iso(range.end).slice(0, 10)}.${q.format}`;
          return await reply
            .type(CONTENT_TYPE[q.format])
            .header('content-disposition', `attachment; filename="${name}"`)
            .send(
              streamPages(
                pages(),
                q.format,
                ['periodStart', 'region', 'pageName', 'views'],
                (r) => [iso(r.periodStart), r.region, r.pageName, r.views],
                toJson,
              ),
            );
        }

        const head = {
          granularity,
          timezone: deps.timezone,
          startTime: iso(range.start),
          endTime: iso(range.end),
          ...(filter.region === undefined ? {} : { region: filter.region }),
          ...(filter.pageName === undefined ? {} : { pageName: filter.pageName }),
        } satisfies RowsHead;
        // The first rows are read before the answer starts, so a store that is down still gets
        // its 503; a failure after that can only cut the body short.
        const reader = jsonPage(deps.rollups, base, q.limit, after);
        const first = await reader.next();
        return await reply.type('application/json; charset=utf-8').send(Readable.from(jsonBody(head, first, reader)));
      },
    );
  }
}
