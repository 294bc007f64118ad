import type { Decomposition, Granularity, WeekStart } from '../../domain/periods.js';
import type { RejectedMessage } from '../../ports/event-bus.js';
import type { LogPosition } from '../../ports/event-store.js';
import type {
  BotRow,
  Breakdown,
  Cut,
  BreakdownQuery,
  Dimension,
  FoldResult,
  ImportStart,
  ImportTotals,
  ImportedCount,
  ProcessedEvent,
  RecentBatch,
  RecordedRequests,
  ReplaceResult,
  RequestCopy,
  ReplaceWindow,
  RollupQuery,
  RollupRow,
  RollupStore,
  SeriesQuery,
  StatsFilter,
} from '../../ports/rollup-store.js';
import { answers, type SqlClient, type SqlDatabase } from './database.js';
import { abandonImport, addImported, addImportedDays, beginImport, completeImport } from './import-sql.js';
import { addDayDifferences } from './long-periods.js';
import { migrate } from './migrations.js';
import { localEnd, localStart, TABLE, weekShift } from './period-sql.js';
import {
  checkCut,
  claimPartitions,
  cutOf,
  dropCounted,
  foldPending,
  keepRejected,
  knownRequests,
  lastWindowRecompute,
  lockConsolidation,
  recentBatches,
  recordProcessed,
} from './pending-sql.js';
import { botHitsOf, breakdownOf, deriveSums, distinctOf, seriesOf, viewsOf } from './stats-sql.js';

/** The longest period of each granularity plus a DST hour, rounded up: bounds the overlap scan. */
const LONGEST: Record<Granularity, string> = { daily: '2 days', weekly: '8 days', monthly: '32 days' };

const iso = (ms: number): string => new Date(ms).toISOString();

/** The rollup store on PostgreSQL or PGlite: the same SQL for both. */
export class SqlRollupStore implements RollupStore {
  constructor(private readonly db: SqlDatabase) {}

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  async replaceWindow(w: ReplaceWindow): Promise<ReplaceResult> {
    return await this.db.transaction(async (tx) => {
      await lockConsolidation(tx);
      if (w.cut !== undefined) {
        await checkCut(tx, w.cut);
        await dropCounted(tx, iso(w.start), iso(w.end), w.cut.positions);
      }
      // The window's days before and after, as differences: quarters and years are kept by addition.
      await tx.query(`CREATE TEMP TABLE window_days (day timestamptz, region text COLLATE "C", page_name text COLLATE "C", views bigint) ON COMMIT DROP`);
      await tx.query(
        `WITH gone AS (DELETE FROM region_daily WHERE period_start >= $1 AND period_start < $2 RETURNING period_start, region, page_name, views)
         INSERT INTO window_days SELECT period_start, region, page_name, -views FROM gone`,
        [iso(w.start), iso(w.end)],
      );
      const rows = w.daily.filter((c) => c.views > 0);
      if (rows.length > 0) {
        // unnest of parallel arrays: one round trip, every value a bound parameter.
        await tx.query(
          `INSERT INTO region_daily (period_start, period_end, region, page_name, views)
           SELECT d, ${localEnd('daily', 'd', '$5::text')}, r, p, v
           FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[]) AS u(d, r, p, v)`,
          [rows.map((c) => iso(c.dayStart)), rows.map((c) => c.region), rows.map((c) => c.pageName), rows.map((c) => c.views), w.timeZone],
        );
      }
      // Imported history of these days is part of them: before the weeks, months and sums are derived.
      const imported = await addImportedDays(tx, w.start, w.end, w.timeZone);
      const daily = imported === 0 ? rows.length : await countDaily(tx, w.start, w.end);
      await tx.query('INSERT INTO window_days SELECT period_start, region, page_name, views FROM region_daily WHERE period_start >= $1 AND period_start < $2', [
        iso(w.start),
        iso(w.end),
      ]);
      // Usually empty (a recompute finds what the folds added), and read by eight statements.
      await tx.query(
        `CREATE TEMP TABLE window_changes ON COMMIT DROP AS
         SELECT day, region, page_name, sum(views)::bigint AS views FROM window_days GROUP BY 1, 2, 3 HAVING sum(views) <> 0`,
      );
      await addDayDifferences(tx, 'window_changes', w.timeZone);
      await tx.query('DELETE FROM bot_daily WHERE period_start >= $1 AND period_start < $2', [iso(w.start), iso(w.end)]);
      const bots = w.bots.filter((b) => b.hits > 0);
      if (bots.length > 0) {
        await tx.query(
          `INSERT INTO bot_daily (period_start, period_end, hits)
           SELECT d, ${localEnd('daily', 'd', '$3::text')}, h FROM unnest($1::timestamptz[], $2::bigint[]) AS u(d, h)`,
          [bots.map((b) => iso(b.dayStart)), bots.map((b) => b.hits), w.timeZone],
        );
      }
      const { weekly, monthly } = await deriveWindow(tx, w);
      await tx.query(
        `INSERT INTO consolidation_runs (window_start, window_end, time_zone, daily_rows, weekly_rows, monthly_rows, mode)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [iso(w.start), iso(w.end), w.timeZone, daily, weekly, monthly, w.mode ?? 'range'],
      );
      return { daily, weekly, monthly };
    });
  }

  async beginImport(source: { sha256: string; name: string }): Promise<ImportStart> {
    return await beginImport(this.db, source);
  }

  async addImported(source: number, counts: readonly ImportedCount[]): Promise<void> {
    await addImported(this.db, source, counts);
  }

  async completeImport(source: number, totals: ImportTotals): Promise<{ first: number; last: number } | undefined> {
    return await completeImport(this.db, source, totals);
  }

  async abandonImport(source: number): Promise<void> {
    await abandonImport(this.db, source);
  }

  async claimPartitions(positions: readonly LogPosition[]): Promise<void> {
    await claimPartitions(this.db, positions);
  }

  async recordProcessed(events: readonly ProcessedEvent[], requests?: RecordedRequests): Promise<number> {
    return events.length === 0 && (requests?.keyed?.length ?? 0) === 0 ? 0 : await recordProcessed(this.db, events, requests);
  }

  async knownRequests(requestIds: readonly string[]): Promise<Map<string, RequestCopy>> {
    return await knownRequests(this.db, requestIds);
  }

  async recentBatches(partition: number): Promise<RecentBatch[]> {
    return await recentBatches(this.db, partition);
  }

  async keepRejected(rejected: readonly RejectedMessage[]): Promise<void> {
    await keepRejected(this.db, rejected);
  }

  async cut(): Promise<Cut> {
    return await cutOf(this.db);
  }

  async lastWindowRecompute(): Promise<number | undefined> {
    return await lastWindowRecompute(this.db);
  }

  async foldPending(timeZone: string, weekStart: WeekStart): Promise<FoldResult> {
    return await foldPending(this.db, timeZone, weekStart);
  }

  async query(q: RollupQuery): Promise<RollupRow[]> {
    // `period_start > start - LONGEST` lets the overlap test walk the primary key (or the region
    // or page index) instead of every row before `end`; the row comparison resumes a page.
    const params: unknown[] = [iso(q.start), iso(q.end)];
    const where = ['period_start < $2', 'period_end > $1', `period_start > $1::timestamptz - interval '${LONGEST[q.granularity]}'`];
    if (q.region !== undefined) where.push(`region = $${params.push(q.region)}::text`);
    if (q.pageName !== undefined) where.push(`page_name = $${params.push(q.pageName)}::text`);
    if (q.after !== undefined) {
      const a = params.push(iso(q.after.periodStart), q.after.region, q.after.pageName);
      where.push(`(period_start, region, page_name) > ($${a - 2}::timestamptz, $${a - 1}::text, $${a}::text)`);
    }
    const limit = q.limit === undefined ? '' : `LIMIT $${params.push(q.limit)}::int`;
    const { rows } = await this.db.query<{ ps: number; region: string; page_name: string; views: number }>(
      `SELECT (extract(epoch FROM period_start) * 1000)::float8 AS ps, region, page_name, views::float8 AS views
       FROM ${TABLE[q.granularity]}
       WHERE ${where.join(' AND ')}
       ORDER BY period_start, region, page_name ${limit}`,
      params,
    );
    return rows.map((r) => ({ periodStart: Number(r.ps), region: r.region, pageName: r.page_name, views: Number(r.views) }));
  }

  async views(pieces: Decomposition, filter: StatsFilter): Promise<number> {
    return await viewsOf(this.db, pieces, filter);
  }

  async distinct(by: Dimension, pieces: Decomposition, filter: StatsFilter): Promise<number> {
    return await distinctOf(this.db, by, pieces, filter);
  }

  async breakdown(q: BreakdownQuery): Promise<Breakdown> {
    return await breakdownOf(this.db, q);
  }

  async series(q: SeriesQuery): Promise<Array<{ periodStart: number; views: number }>> {
    return await seriesOf(this.db, q);
  }

  async botHits(start: number, end: number): Promise<number> {
    return await botHitsOf(this.db, start, end);
  }

  async bots(start: number, end: number): Promise<BotRow[]> {
    const { rows } = await this.db.query<{ ps: number; hits: number }>(
      `SELECT (extract(epoch FROM period_start) * 1000)::float8 AS ps, hits::float8 AS hits
       FROM bot_daily WHERE period_start < $2 AND period_end > $1 ORDER BY period_start`,
      [iso(start), iso(end)],
    );
    return rows.map((r) => ({ periodStart: Number(r.ps), hits: Number(r.hits) }));
  }

  async regions(): Promise<string[]> {
    const { rows } = await this.db.query<{ region: string }>('SELECT region FROM by_region_monthly GROUP BY region ORDER BY region');
    return rows.map((r) => r.region);
  }

  async ready(): Promise<boolean> {
    return await answers(this.db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Everything the window's `region_daily` rows determine: the summed daily rollups of the window,
 * and every week and month that touches it (pairs and sums). Exported for bulk loads that write
 * `region_daily` directly (the benchmarks' year of data).
 */
export async function deriveWindow(
  tx: SqlClient,
  w: Pick<ReplaceWindow, 'start' | 'end' | 'timeZone' | 'weekStart'>,
): Promise<{ weekly: number; monthly: number }> {
  const shift = weekShift(w.weekStart);
  await deriveSums(tx, 'daily', iso(w.start), iso(w.end), w.timeZone, shift);
  const weekly = await derive(tx, 'weekly', w, shift);
  const monthly = await derive(tx, 'monthly', w, shift);
  return { weekly, monthly };
}

/**
 * Recomputes every weekly or monthly row whose period touches the window, from the daily rows
 * (which include days outside the window that earlier runs stored).
 */
async function derive(tx: SqlClient, g: Exclude<Granularity, 'daily'>, w: Pick<ReplaceWindow, 'start' | 'end' | 'timeZone'>, shift: number): Promise<number> {
  const { rows } = await tx.query<{ s: string; e: string }>(
    `SELECT ${localStart(g, '$1::timestamptz', '$3::text', '$4::int')}::text AS s,
            ${localEnd(g, localStart(g, "($2::timestamptz - interval '1 microsecond')", '$3::text', '$4::int'), '$3::text')}::text AS e`,
    withShift(g, [iso(w.start), iso(w.end), w.timeZone], shift),
  );
  const bounds = rows[0];
  if (bounds === undefined) throw new Error('period bounds query returned nothing');
  await tx.query(`DELETE FROM ${TABLE[g]} WHERE period_start >= $1 AND period_start < $2`, [bounds.s, bounds.e]);
  const start = localStart(g, 'period_start', '$3::text', '$4::int');
  const inserted = await tx.query<{ n: number }>(
    `WITH ins AS (
       INSERT INTO ${TABLE[g]} (period_start, period_end, region, page_name, views)
       SELECT p, ${localEnd(g, 'p', '$3::text')}, region, page_name, sum(views)
       FROM (SELECT ${start} AS p, region, page_name, views FROM region_daily
             WHERE period_start >= $1 AND period_start < $2) AS d
       GROUP BY p, region, page_name
       -- In key order, the new rows fill index pages one after another instead of dirtying
       -- pages all over the indexes (the hash aggregate's order).
       ORDER BY p, region, page_name
       RETURNING 1)
     SELECT count(*)::int AS n FROM ins`,
    withShift(g, [bounds.s, bounds.e, w.timeZone], shift),
  );
  await deriveSums(tx, g, bounds.s, bounds.e, w.timeZone, shift);
  return Number(inserted.rows[0]?.n ?? 0);
}

async function countDaily(tx: SqlClient, start: number, end: number): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM region_daily WHERE period_start >= $1 AND period_start < $2', [
    iso(start),
    iso(end),
  ]);
  return Number(rows[0]?.n ?? 0);
}

/** `$4` (the week shift) appears only in weekly SQL, and PostgreSQL refuses unused parameters. */
function withShift(g: Granularity, params: unknown[], shift: number): unknown[] {
  return g === 'weekly' ? [...params, shift] : params;
}
