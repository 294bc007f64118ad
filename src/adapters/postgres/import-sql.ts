import type { ImportStart, ImportTotals, ImportedCount } from '../../ports/rollup-store.js';
import type { SqlClient, SqlDatabase } from './database.js';
import { localEnd, localStart } from './period-sql.js';

// Any constant works; it serialises the begin and end of imports (the unique index backs it up).
const IMPORT_LOCK = 7_301_355_117;
/** A partial source not written to for this long was left by an import that died. */
const STALE_AFTER = `interval '10 minutes'`;

const iso = (ms: number): string => new Date(ms).toISOString();

export async function beginImport(db: SqlDatabase, source: { sha256: string; name: string }): Promise<ImportStart> {
  return await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
    const done = await tx.query<{ at: number }>(
      `SELECT (extract(epoch FROM imported_at) * 1000)::float8 AS at FROM import_sources WHERE sha256 = $1 AND complete`,
      [source.sha256],
    );
    const at = done.rows[0]?.at;
    if (at !== undefined) return { status: 'already imported', importedAt: Number(at) };
    const busy = await tx.query(`SELECT 1 FROM import_sources WHERE sha256 = $1 AND NOT complete AND touched_at > now() - ${STALE_AFTER}`, [source.sha256]);
    if (busy.rows.length > 0) return { status: 'in progress' };
    // Partial sources of this content, and any other that nothing writes to any more, go: their
    // rows never counted, and this import starts the file again.
    const stale = await tx.query<{ id: string }>(
      `DELETE FROM import_sources WHERE NOT complete AND (sha256 = $1 OR touched_at < now() - ${STALE_AFTER}) RETURNING id`,
      [source.sha256],
    );
    if (stale.rows.length > 0) {
      await tx.query('DELETE FROM imported_views WHERE source = ANY($1::bigint[])', [stale.rows.map((r) => r.id)]);
    }
    const { rows } = await tx.query<{ id: string }>('INSERT INTO import_sources (sha256, name) VALUES ($1, $2) RETURNING id', [source.sha256, source.name]);
    return { status: 'started', id: Number(rows[0]?.id) };
  });
}

export async function addImported(db: SqlDatabase, source: number, counts: readonly ImportedCount[]): Promise<void> {
  if (counts.length === 0) return;
  await db.transaction(async (tx) => {
    // unnest of parallel arrays: one statement per chunk, every value a bound parameter. A key
    // the file had before (a later line of the same quarter hour) adds up.
    await tx.query(
      `INSERT INTO imported_views (source, bucket, region, page_name, views)
       SELECT $1::bigint, to_timestamp(b), r, p, v FROM unnest($2::float8[], $3::text[], $4::text[], $5::bigint[]) AS u(b, r, p, v)
       ON CONFLICT (source, bucket, region, page_name) DO UPDATE SET views = imported_views.views + excluded.views`,
      // Seconds, not ISO text: formatting a date per row cost more than the rest of the row. A
      // bucket is a whole second, so the double is exact.
      [source, counts.map((c) => c.bucket / 1000), counts.map((c) => c.region), counts.map((c) => c.pageName), counts.map((c) => c.views)],
    );
    await tx.query('UPDATE import_sources SET touched_at = now() WHERE id = $1', [source]);
  });
}

export async function completeImport(db: SqlDatabase, source: number, totals: ImportTotals): Promise<{ first: number; last: number } | undefined> {
  return await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
    await tx.query('UPDATE import_sources SET complete = true, kind = $2, lines = $3, views = $4, imported_at = now(), touched_at = now() WHERE id = $1', [
      source,
      totals.kind,
      totals.lines,
      totals.views,
    ]);
    // The primary key starts with (source, bucket): both ends are one index probe each.
    const { rows } = await tx.query<{ first: number | null; last: number | null }>(
      `SELECT (extract(epoch FROM min(bucket)) * 1000)::float8 AS first, (extract(epoch FROM max(bucket)) * 1000)::float8 AS last
       FROM imported_views WHERE source = $1`,
      [source],
    );
    const r = rows[0];
    return r?.first == null || r.last == null ? undefined : { first: Number(r.first), last: Number(r.last) };
  });
}

export async function abandonImport(db: SqlDatabase, source: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM imported_views WHERE source = $1', [source]);
    await tx.query('DELETE FROM import_sources WHERE id = $1 AND NOT complete', [source]);
  });
}

/**
 * Inside a replace of the window [start, end): adds the complete sources' counts of its days to
 * the region_daily rows just written from the event store, so any recompute of those days gives
 * the same numbers. Returns how many rows it wrote or added to.
 */
export async function addImportedDays(tx: SqlClient, start: number, end: number, timeZone: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `WITH ins AS (
       INSERT INTO region_daily (period_start, period_end, region, page_name, views)
       SELECT d, ${localEnd('daily', 'd', '$3::text')}, region, page_name, sum(views)
       FROM (SELECT ${localStart('daily', 'v.bucket', '$3::text', '0')} AS d, v.region, v.page_name, v.views
             FROM imported_views v JOIN import_sources s ON s.id = v.source AND s.complete
             WHERE v.bucket >= $1 AND v.bucket < $2) AS x
       GROUP BY d, region, page_name
       ORDER BY d, region, page_name
       ON CONFLICT (period_start, region, page_name) DO UPDATE SET views = region_daily.views + excluded.views
       RETURNING 1)
     SELECT count(*)::int AS n FROM ins`,
    [iso(start), iso(end), timeZone],
  );
  return Number(rows[0]?.n ?? 0);
}
