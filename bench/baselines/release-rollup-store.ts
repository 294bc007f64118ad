// The previous release's consolidation write (`git show 2daf3ba:src/adapters/postgres/rollup-store.ts`),
// replaceWindow and derive unchanged but for the imports: the baseline for the cost of the summed
// rollups. Run it against the release schema (migration 1: region_* and their region index only),
// see bench/lib/release-schema.ts. period-sql.ts is the same file in both versions.
import type { Granularity } from '../../src/domain/periods.js';
import type { ReplaceResult, ReplaceWindow } from '../../src/ports/rollup-store.js';
import type { SqlClient, SqlDatabase } from '../../src/adapters/postgres/database.js';
import { localEnd, localStart, TABLE, weekShift } from '../../src/adapters/postgres/period-sql.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export async function releaseReplaceWindow(db: SqlDatabase, w: ReplaceWindow): Promise<ReplaceResult> {
  const shift = weekShift(w.weekStart);
  return await db.transaction(async (tx) => {
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
