import type { WeekStart } from '../../domain/periods.js';
import type { LogPosition } from '../../ports/event-store.js';
import type { RejectedMessage } from '../../ports/event-bus.js';
import { CutMovedError, type Cut, type FoldResult, type ProcessedEvent, type RecordedRequest, type RequestCopy } from '../../ports/rollup-store.js';
import type { SqlClient, SqlDatabase } from './database.js';
import { localEnd, localStart, weekShift } from './period-sql.js';

/**
 * Incremental consolidation. Processing adds the counts of the events it stored to
 * `pending_views` exactly once: a partition's position (`processed_offsets.through`) moves in the
 * same transaction, and events at or below it are skipped, so a batch Kafka delivers again adds
 * nothing. The consolidator folds the pending rows into the rollups by addition and deletes them,
 * in one transaction: its cost follows the events that arrived, not the window or the series.
 */

/** Serialises folds and recomputes across processes (a manual run beside the CronJob). */
const CONSOLIDATION_LOCK = 7_301_355_115;
const QUARTER_HOUR_MS = 900_000;

export async function lockConsolidation(tx: SqlClient): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [CONSOLIDATION_LOCK]);
}

export async function claimPartitions(db: SqlClient, positions: readonly LogPosition[]): Promise<void> {
  if (positions.length === 0) return;
  await db.query(
    `INSERT INTO processed_offsets (log_partition, through)
     SELECT * FROM unnest($1::int[], $2::bigint[]) ON CONFLICT (log_partition) DO NOTHING`,
    [positions.map((p) => p.partition), positions.map((p) => p.through)],
  );
}

export async function recordProcessed(db: SqlDatabase, events: readonly ProcessedEvent[], requests: readonly RecordedRequest[] = []): Promise<number> {
  const byPartition = new Map<number, ProcessedEvent[]>();
  for (const e of events) {
    let list = byPartition.get(e.partition);
    if (list === undefined) byPartition.set(e.partition, (list = []));
    list.push(e);
  }
  return await db.transaction(async (tx) => {
    if (requests.length > 0) {
      // The first copy stays: a copy recorded by another consumer first keeps its place.
      await tx.query(
        `INSERT INTO recent_requests (request_id, log_partition, base_offset, keep_until)
         SELECT i, p, o, timestamptz 'epoch' + k * interval '1 millisecond'
         FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS u(i, p, o, k)
         ON CONFLICT (request_id) DO NOTHING`,
        [requests.map((r) => r.requestId), requests.map((r) => r.partition), requests.map((r) => r.baseOffset), requests.map((r) => r.keepUntil)],
      );
    }
    let recorded = 0;
    for (const [partition, list] of byPartition) {
      await tx.query('INSERT INTO processed_offsets (log_partition, through) VALUES ($1, -1) ON CONFLICT (log_partition) DO NOTHING', [partition]);
      // FOR UPDATE: a second consumer of the partition (a rebalance's zombie) waits here, then
      // sees the moved position and adds nothing.
      const { rows } = await tx.query<{ n: number }>(
        `WITH cur AS (SELECT through FROM processed_offsets WHERE log_partition = $1 FOR UPDATE),
         ev AS (SELECT o, t, r, n, b FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::boolean[]) AS u(o, t, r, n, b)
                WHERE o > (SELECT through FROM cur)),
         last AS (SELECT max(o) AS o FROM ev),
         views AS (
           INSERT INTO pending_views (log_partition, batch_through, bucket, region, page_name, views)
           SELECT $1, (SELECT o FROM last), q, r, n, count(*)
           FROM (SELECT timestamptz 'epoch' + (t - t % ${QUARTER_HOUR_MS}) * interval '1 millisecond' AS q, r, n FROM ev WHERE NOT b) AS s
           GROUP BY q, r, n RETURNING 1),
         bots AS (
           INSERT INTO pending_bots (log_partition, batch_through, bucket, hits)
           SELECT $1, (SELECT o FROM last), q, count(*)
           FROM (SELECT timestamptz 'epoch' + (t - t % ${QUARTER_HOUR_MS}) * interval '1 millisecond' AS q FROM ev WHERE b) AS s
           GROUP BY q RETURNING 1),
         moved AS (UPDATE processed_offsets SET through = (SELECT o FROM last)
                   WHERE log_partition = $1 AND (SELECT o FROM last) IS NOT NULL RETURNING 1)
         SELECT count(*)::int AS n FROM ev`,
        [
          partition,
          list.map((e) => e.offset),
          list.map((e) => e.timestamp),
          list.map((e) => e.region),
          list.map((e) => e.pageName),
          list.map((e) => e.bot),
        ],
      );
      recorded += Number(rows[0]?.n ?? 0);
    }
    return recorded;
  });
}

export async function knownRequests(db: SqlClient, ids: readonly string[]): Promise<Map<string, RequestCopy>> {
  const known = new Map<string, RequestCopy>();
  if (ids.length === 0) return known;
  const { rows } = await db.query<{ i: string; p: number; o: string }>(
    'SELECT request_id AS i, log_partition AS p, base_offset::text AS o FROM recent_requests WHERE request_id = ANY($1::text[]) AND keep_until > now()',
    [ids],
  );
  for (const r of rows) known.set(r.i, { partition: Number(r.p), baseOffset: String(r.o) });
  return known;
}

export async function keepRejected(db: SqlClient, rejected: readonly RejectedMessage[]): Promise<void> {
  if (rejected.length === 0) return;
  await db.query(
    `INSERT INTO dead_letters (log_partition, log_offset, payload, reason)
     SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
    [rejected.map((r) => r.partition), rejected.map((r) => r.offset), rejected.map((r) => r.value?.toString('base64') ?? null), rejected.map((r) => r.reason)],
  );
}

export async function cutOf(db: SqlClient): Promise<Cut> {
  // One statement, so the positions and the fold count are one snapshot.
  const { rows } = await db.query<{ folds: number; positions: Array<{ p: number; o: string }> | string | null }>(
    `SELECT (SELECT coalesce(max(id), 0) FROM consolidation_runs WHERE mode = 'fold')::float8 AS folds,
            (SELECT json_agg(json_build_object('p', log_partition, 'o', through::text) ORDER BY log_partition) FROM processed_offsets) AS positions`,
  );
  const row = rows[0];
  const positions = typeof row?.positions === 'string' ? (JSON.parse(row.positions) as Array<{ p: number; o: string }>) : (row?.positions ?? []);
  return { folds: Number(row?.folds ?? 0), positions: positions.map((x) => ({ partition: Number(x.p), through: String(x.o) })) };
}

/** Under the consolidation lock: refuses a replace whose cut is older than the last fold. */
export async function checkCut(tx: SqlClient, cut: Cut): Promise<void> {
  const { rows } = await tx.query<{ folds: number }>(`SELECT coalesce(max(id), 0)::float8 AS folds FROM consolidation_runs WHERE mode = 'fold'`);
  if (Number(rows[0]?.folds ?? 0) !== cut.folds) throw new CutMovedError();
}

export async function lastWindowRecompute(db: SqlClient): Promise<number | undefined> {
  const { rows } = await db.query<{ t: number | null }>(
    `SELECT (extract(epoch FROM max(finished_at)) * 1000)::float8 AS t FROM consolidation_runs WHERE mode = 'window'`,
  );
  const t = rows[0]?.t;
  return t === null || t === undefined ? undefined : Number(t);
}

/**
 * Drops the pending deltas of the local days [start, end) that a recompute at `cut` counted
 * already (inserted by batches at or below their partition's position in the cut).
 */
export async function dropCounted(tx: SqlClient, start: string, end: string, cut: readonly LogPosition[]): Promise<void> {
  if (cut.length === 0) return;
  const params = [start, end, cut.map((c) => c.partition), cut.map((c) => c.through)];
  for (const table of ['pending_views', 'pending_bots']) {
    await tx.query(
      `DELETE FROM ${table} AS pv USING unnest($3::int[], $4::bigint[]) AS c(p, o)
       WHERE pv.log_partition = c.p AND pv.batch_through <= c.o AND pv.bucket >= $1 AND pv.bucket < $2`,
      params,
    );
  }
}

/** Adds every pending delta to the rollups of its local day, week and month, and deletes it. */
export async function foldPending(db: SqlDatabase, timeZone: string, weekStart: WeekStart): Promise<FoldResult> {
  const shift = weekShift(weekStart);
  return await db.transaction(async (tx) => {
    await lockConsolidation(tx);
    await tx.query(
      `CREATE TEMP TABLE fold_days (day timestamptz, region text COLLATE "C", page_name text COLLATE "C", views bigint) ON COMMIT DROP`,
    );
    const taken = await tx.query<{ n: number }>(
      `WITH taken AS (DELETE FROM pending_views RETURNING bucket, region, page_name, views),
       ins AS (INSERT INTO fold_days SELECT ${localStart('daily', 'bucket', '$1::text', '0')}, region, page_name, sum(views)
               FROM taken GROUP BY 1, 2, 3 RETURNING views)
       SELECT (SELECT count(*) FROM taken)::int AS n, (SELECT coalesce(sum(views), 0) FROM ins)::float8 AS views`,
      [timeZone],
    );
    const result: FoldResult = { pending: Number(taken.rows[0]?.n ?? 0), daily: 0, weekly: 0, monthly: 0, views: 0, botHits: 0 };
    result.views = Number((taken.rows[0] as { views?: number } | undefined)?.views ?? 0);
    if (result.pending > 0) {
      for (const g of ['daily', 'weekly', 'monthly'] as const) {
        const p = localStart(g, 'day', '$1::text', g === 'weekly' ? '$2::int' : '0');
        const params = g === 'weekly' ? [timeZone, shift] : [timeZone];
        const source = `(SELECT ${p} AS p, region, page_name, views FROM fold_days) AS f`;
        const end = localEnd(g, 'p', '$1::text');
        const { rows } = await tx.query<{ n: number }>(
          `WITH up AS (
             INSERT INTO region_${g} (period_start, period_end, region, page_name, views)
             SELECT p, ${end}, region, page_name, sum(views) FROM ${source} GROUP BY p, region, page_name
             ON CONFLICT (period_start, region, page_name) DO UPDATE SET views = region_${g}.views + excluded.views
             RETURNING 1)
           SELECT count(*)::int AS n FROM up`,
          params,
        );
        result[g] = Number(rows[0]?.n ?? 0);
        for (const [table, key] of [
          [`by_page_${g}`, 'page_name'],
          [`by_region_${g}`, 'region'],
        ] as const) {
          await tx.query(
            `INSERT INTO ${table} (period_start, ${key}, views) SELECT p, ${key}, sum(views) FROM ${source} GROUP BY p, ${key}
             ON CONFLICT (period_start, ${key}) DO UPDATE SET views = ${table}.views + excluded.views`,
            params,
          );
        }
        await tx.query(
          `INSERT INTO site_${g} (period_start, views) SELECT p, sum(views) FROM ${source} GROUP BY p
           ON CONFLICT (period_start) DO UPDATE SET views = site_${g}.views + excluded.views`,
          params,
        );
      }
    }
    const bots = await tx.query<{ hits: number }>(
      `WITH taken AS (DELETE FROM pending_bots RETURNING bucket, hits),
       ins AS (
         INSERT INTO bot_daily (period_start, period_end, hits)
         SELECT d, ${localEnd('daily', 'd', '$1::text')}, sum(hits)
         FROM (SELECT ${localStart('daily', 'bucket', '$1::text', '0')} AS d, hits FROM taken) AS t GROUP BY d
         ON CONFLICT (period_start) DO UPDATE SET hits = bot_daily.hits + excluded.hits
         RETURNING 1)
       SELECT coalesce((SELECT sum(hits) FROM taken), 0)::float8 AS hits, (SELECT count(*) FROM ins) AS rows`,
      [timeZone],
    );
    result.botHits = Number(bots.rows[0]?.hits ?? 0);
    // Request ids no other copy can meet any more.
    await tx.query('DELETE FROM recent_requests WHERE keep_until < now()');
    await tx.query(
      `INSERT INTO consolidation_runs (window_start, window_end, time_zone, daily_rows, weekly_rows, monthly_rows, mode)
       VALUES (now(), now(), $1, $2, $3, $4, 'fold')`,
      [timeZone, result.daily, result.weekly, result.monthly],
    );
    return result;
  });
}
