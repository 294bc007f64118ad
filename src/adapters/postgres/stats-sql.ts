import type { Decomposition, Granularity } from '../../domain/periods.js';
import type { Breakdown, BreakdownQuery, Dimension, SeriesQuery, StatsFilter } from '../../ports/rollup-store.js';
import type { SqlClient } from './database.js';
import { localStart, weekShift } from './period-sql.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** Bound parameters collected as the SQL is written, so placeholders and values cannot drift apart. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/**
 * Which rollup answers a question: the narrowest table that still has the columns the filter and
 * the key need. `region_*` has every (region, page) pair; `by_page_*`, `by_region_*` and `site_*`
 * are it summed over regions, pages or both, and are far smaller.
 */
interface Source {
  prefix: string;
  key: 'page_name' | 'region' | undefined;
  where: string[];
}

function source(key: Dimension | undefined, filter: StatsFilter, p: Params): Source {
  const region = filter.region === undefined ? undefined : `region = ${p.add(filter.region, 'text')}`;
  const page = filter.pageName === undefined ? undefined : `page_name = ${p.add(filter.pageName, 'text')}`;
  const where = [region, page].filter((w): w is string => w !== undefined);
  const column = key === 'page' ? 'page_name' : key === 'region' ? 'region' : undefined;
  const needsPairs = (region !== undefined && page !== undefined) || (key === 'page' && region !== undefined) || (key === 'region' && page !== undefined);
  if (needsPairs) return { prefix: 'region', key: column, where };
  if (key === 'page' || (key === undefined && page !== undefined)) return { prefix: 'by_page', key: column, where };
  if (key === 'region' || region !== undefined) return { prefix: 'by_region', key: column, where };
  return { prefix: 'site', key: column, where };
}

/**
 * Every rollup row of the decomposed range: whole years, quarters, months and weeks and single
 * days, plus the subtracted pieces with their views negated. Sums over them are exact; a key can
 * sum to 0 (all its views in subtracted days), hence `HAVING sum(views) > 0` wherever keys are counted.
 */
function pieceRows(src: Source, pieces: Decomposition, p: Params): string {
  const parts: string[] = [];
  const pieceLists: Array<readonly [string, readonly (number | string)[], '' | '-']> = [];
  for (const [set, sign] of [
    [pieces, ''],
    [pieces.minus, '-'],
  ] as const) {
    if (set === undefined) continue;
    pieceLists.push(
      ['yearly', set.years, sign],
      ['quarterly', set.quarters, sign],
      ['monthly', set.months, sign],
      ['weekly', set.weeks, sign],
      ['daily', set.days, sign],
    );
  }
  for (const [g, starts, sign] of pieceLists) {
    if (starts.length === 0) continue;
    // Summed as float8, not bigint: PostgreSQL sums bigint into numeric, a tenth slower on the
    // 70,000 rows of a 12-month all-pages question; integer sums stay exact in float8 below 2^53.
    const views = `${sign}views::float8 AS views`;
    const columns = src.key === undefined ? views : `${src.key} AS key, ${views}`;
    // Years and quarters are keyed by their first local date, the rest by the instant they start.
    const keys =
      g === 'yearly' || g === 'quarterly'
        ? p.add(starts, 'date[]')
        : p.add(
            starts.map((t) => iso(Number(t))),
            'timestamptz[]',
          );
    const where = [`period_start = ANY(${keys})`, ...src.where].join(' AND ');
    parts.push(`SELECT ${columns} FROM ${src.prefix}_${g} WHERE ${where}`);
  }
  // An empty range still needs a relation of the right shape.
  if (parts.length === 0)
    parts.push(src.key === undefined ? 'SELECT 0::bigint AS views WHERE false' : "SELECT ''::text AS key, 0::bigint AS views WHERE false");
  return parts.join('\n UNION ALL ');
}

export async function viewsOf(db: SqlClient, pieces: Decomposition, filter: StatsFilter): Promise<number> {
  const p = new Params();
  const src = source(undefined, filter, p);
  const { rows } = await db.query<{ views: number }>(`SELECT coalesce(sum(views), 0)::float8 AS views FROM (${pieceRows(src, pieces, p)}) AS s`, p.values);
  return Number(rows[0]?.views ?? 0);
}

export async function distinctOf(db: SqlClient, by: Dimension, pieces: Decomposition, filter: StatsFilter): Promise<number> {
  const p = new Params();
  const src = source(by, filter, p);
  const { rows } = await db.query<{ n: number }>(
    // A hash aggregate: count(DISTINCT) sorts every key of every piece and spills past work_mem.
    `SELECT count(*)::int AS n FROM (SELECT key FROM (${pieceRows(src, pieces, p)}) AS s GROUP BY key HAVING sum(views) > 0) AS k`,
    p.values,
  );
  return Number(rows[0]?.n ?? 0);
}

export async function breakdownOf(db: SqlClient, q: BreakdownQuery): Promise<Breakdown> {
  const p = new Params();
  const src = source(q.by, q.filter, p);
  const rows = pieceRows(src, q.pieces, p);
  // lower() in the database's own ctype (not "C", which folds ASCII only), so `über` finds `/Über`.
  const search = q.search === undefined ? '' : `WHERE strpos(lower(key COLLATE "default"), lower(${p.add(q.search, 'text')} COLLATE "default")) > 0`;
  const limit = p.add(q.limit, 'int');
  const offset = p.add(q.offset, 'int');
  const { rows: result } = await db.query<{ n: number; total: number; top: Array<[string, number]> | string }>(
    `WITH agg AS MATERIALIZED (
       SELECT key, sum(views)::float8 AS views FROM (${rows}) AS s GROUP BY key HAVING sum(views) > 0
     ), hit AS MATERIALIZED (SELECT key, views FROM agg ${search})
     SELECT (SELECT count(*)::int FROM hit) AS n,
            (SELECT coalesce(sum(views), 0)::float8 FROM hit) AS total,
            (SELECT coalesce(json_agg(json_build_array(key, views) ORDER BY views DESC, key), '[]'::json)
             FROM (SELECT key, views FROM hit ORDER BY views DESC, key LIMIT ${limit} OFFSET ${offset}) AS t) AS top`,
    p.values,
  );
  const row = result[0];
  const top = typeof row?.top === 'string' ? (JSON.parse(row.top) as Array<[string, number]>) : (row?.top ?? []);
  return {
    total: Number(row?.total ?? 0),
    distinct: Number(row?.n ?? 0),
    rows: top.map(([key, views]) => ({ key, views: Number(views) })),
  };
}

export async function seriesOf(db: SqlClient, q: SeriesQuery): Promise<Array<{ periodStart: number; views: number }>> {
  const p = new Params();
  const src = source(undefined, q.filter, p);
  const where = [`period_start >= ${p.add(iso(q.start), 'timestamptz')}`, `period_start < ${p.add(iso(q.end), 'timestamptz')}`, ...src.where];
  const period = periodExpression(q.interval, q, p);
  const { rows } = await db.query<{ ps: number; views: number }>(
    `SELECT (extract(epoch FROM ${period}) * 1000)::float8 AS ps, sum(views)::float8 AS views
     FROM ${src.prefix}_daily WHERE ${where.join(' AND ')} GROUP BY 1 ORDER BY 1`,
    p.values,
  );
  return rows.map((r) => ({ periodStart: Number(r.ps), views: Number(r.views) }));
}

function periodExpression(interval: Granularity, q: SeriesQuery, p: Params): string {
  if (interval === 'daily') return 'period_start';
  const zone = p.add(q.timeZone, 'text');
  const shift = interval === 'weekly' ? p.add(weekShift(q.weekStart), 'int') : '0';
  return localStart(interval, 'period_start', zone, shift);
}

export async function botHitsOf(db: SqlClient, start: number, end: number): Promise<number> {
  const { rows } = await db.query<{ hits: number }>(
    'SELECT coalesce(sum(hits), 0)::float8 AS hits FROM bot_daily WHERE period_start >= $1 AND period_start < $2',
    [iso(start), iso(end)],
  );
  return Number(rows[0]?.hits ?? 0);
}

/**
 * Rebuilds the summed rollups of the periods [start, end) of one granularity, which the caller has
 * just rewritten in `region_*` in the same transaction. Days are summed from `region_daily`; weeks
 * and months from the daily sums (rebuilt first), which hold far fewer rows than `region_weekly`
 * or `region_monthly`. `zone` and `shift` are the report's time zone and week shift.
 */
export async function deriveSums(db: SqlClient, g: Granularity, start: string, end: string, zone: string, shift: number): Promise<void> {
  for (const [table, key] of [
    [`by_page_${g}`, 'page_name'],
    [`by_region_${g}`, 'region'],
    [`site_${g}`, undefined],
  ] as const) {
    await db.query(`DELETE FROM ${table} WHERE period_start >= $1 AND period_start < $2`, [start, end]);
    const keys = key === undefined ? 'p' : `p, ${key}`;
    const from = g === 'daily' ? 'region_daily' : table.replace(g, 'daily');
    const p = g === 'daily' ? 'period_start' : localStart(g, 'period_start', '$3::text', '$4::int');
    // Rows inserted in key order land next to each other in the primary key.
    await db.query(
      `INSERT INTO ${table} (period_start, ${key === undefined ? '' : `${key}, `}views)
       SELECT ${keys}, sum(views) FROM (SELECT ${p} AS p${key === undefined ? '' : `, ${key}`}, views FROM ${from}
       WHERE period_start >= $1 AND period_start < $2) AS d GROUP BY ${keys} ORDER BY ${keys}`,
      g === 'daily' ? [start, end] : g === 'weekly' ? [start, end, zone, shift] : [start, end, zone],
    );
  }
}
