import type { Granularity } from '../../domain/periods.js';
import type { BotRow, ReplaceResult, ReplaceWindow, RollupQuery, RollupRow, RollupStore } from '../../ports/rollup-store.js';
import type { SqlClient, SqlDatabase } from './database.js';
import { migrate } from './migrations.js';
import { localEnd, localStart, TABLE, weekShift } from './period-sql.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The rollup store on PostgreSQL or PGlite: the same SQL for both. */
export class SqlRollupStore implements RollupStore {
  constructor(private readonly db: SqlDatabase) {}

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  async replaceWindow(w: ReplaceWindow): Promise<ReplaceResult> {
    const shift = weekShift(w.weekStart);
    return await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM region_daily WHERE period_start >= $1 AND period_start < $2', [iso(w.start), iso(w.end)]);
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
      await tx.query('DELETE FROM bot_daily WHERE period_start >= $1 AND period_start < $2', [iso(w.start), iso(w.end)]);
      const bots = w.bots.filter((b) => b.hits > 0);
      if (bots.length > 0) {
        await tx.query(
          `INSERT INTO bot_daily (period_start, period_end, hits)
           SELECT d, ${localEnd('daily', 'd', '$3::text')}, h FROM unnest($1::timestamptz[], $2::bigint[]) AS u(d, h)`,
          [bots.map((b) => iso(b.dayStart)), bots.map((b) => b.hits), w.timeZone],
        );
      }
      const weekly = await derive(tx, 'weekly', w, shift);
      const monthly = await derive(tx, 'monthly', w, shift);
      await tx.query(
        `INSERT INTO consolidation_runs (window_start, window_end, time_zone, daily_rows, weekly_rows, monthly_rows)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [iso(w.start), iso(w.end), w.timeZone, rows.length, weekly, monthly],
      );
      return { daily: rows.length, weekly, monthly };
    });
  }

  async query(q: RollupQuery): Promise<RollupRow[]> {
    const { rows } = await this.db.query<{ ps: number; region: string; page_name: string; views: number }>(
      `SELECT (extract(epoch FROM period_start) * 1000)::float8 AS ps, region, page_name, views::float8 AS views
       FROM ${TABLE[q.granularity]}
       WHERE period_start < $2 AND period_end > $1
         AND ($3::text IS NULL OR region = $3::text)
         AND ($4::text IS NULL OR page_name = $4::text)
       ORDER BY period_start, region COLLATE "C", page_name COLLATE "C"`,
      [iso(q.start), iso(q.end), q.region ?? null, q.pageName ?? null],
    );
    return rows.map((r) => ({ periodStart: Number(r.ps), region: r.region, pageName: r.page_name, views: Number(r.views) }));
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
    const { rows } = await this.db.query<{ region: string }>(
      'SELECT region FROM region_monthly GROUP BY region ORDER BY region COLLATE "C"',
    );
    return rows.map((r) => r.region);
  }

  async ready(): Promise<boolean> {
    try {
      await this.db.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Recomputes every weekly or monthly row whose period touches the window, from the daily rows
 * (which include days outside the window that earlier runs stored).
 */
async function derive(tx: SqlClient, g: Exclude<Granularity, 'daily'>, w: ReplaceWindow, shift: number): Promise<number> {
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
       RETURNING 1)
     SELECT count(*)::int AS n FROM ins`,
    withShift(g, [bounds.s, bounds.e, w.timeZone], shift),
  );
  return Number(inserted.rows[0]?.n ?? 0);
}

/** `$4` (the week shift) appears only in weekly SQL, and PostgreSQL refuses unused parameters. */
function withShift(g: Granularity, params: unknown[], shift: number): unknown[] {
  return g === 'weekly' ? [...params, shift] : params;
}
