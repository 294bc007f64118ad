import type { WeekStart } from '../../domain/periods.js';
import type { LogPosition } from '../../ports/event-store.js';
import type { RejectedMessage } from '../../ports/event-bus.js';
import {
  CutMovedError,
  type Cut,
  type FoldResult,
  type ProcessedEvent,
  type RecentBatch,
  type RecordedRequests,
  type RequestCopy,
  type WindowRequest,
} from '../../ports/rollup-store.js';
import type { SqlClient, SqlDatabase } from './database.js';
import { addDayDifferences } from './long-periods.js';
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

/**
 * Adds the counts of events not recorded yet, once: under the partition's position (read FOR
 * UPDATE, so a second consumer of the partition — a rebalance's zombie — waits, then sees the moved
 * position), events at or below it are skipped, even inside a batch that straddles it after a
 * redelivery. The counts per (quarter hour, region, page) and bot hits per quarter hour are made
 * here in Node and sent as a few JSON arrays: sending every event (six arrays through `pg`'s
 * array serialisation) cost a fifth of processing's CPU.
 */
export async function recordProcessed(db: SqlDatabase, events: readonly ProcessedEvent[], requests?: RecordedRequests): Promise<number> {
  const byPartition = new Map<number, ProcessedEvent[]>();
  for (const e of events) {
    let list = byPartition.get(e.partition);
    if (list === undefined) byPartition.set(e.partition, (list = []));
    list.push(e);
  }
  const keyed = requests?.keyed ?? [];
  return await db.transaction(async (tx) => {
    if (keyed.length > 0) {
      // The first copy stays: a copy recorded by another consumer first keeps its place.
      await tx.query(
        `INSERT INTO recent_requests (request_id, log_partition, base_offset, keep_until)
         SELECT i, p, o, timestamptz 'epoch' + k * interval '1 millisecond'
         FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS u(i, p, o, k)
         ON CONFLICT (request_id) DO NOTHING`,
        [keyed.map((r) => r.requestId), keyed.map((r) => r.partition), keyed.map((r) => r.baseOffset), keyed.map((r) => r.keepUntil)],
      );
    }
    let recorded = 0;
    for (const [partition, list] of byPartition) {
      const through = await lockPosition(tx, partition);
      const delta = countNew(list, through);
      if (delta.events === 0) continue;
      recorded += delta.events;
      // Generated ids at or below the position were recorded with the batch that held their first event.
      const generated = requests?.generated?.get(partition);
      const ids: Array<string | number> = [];
      for (const [id, base] of generated?.requests ?? []) if (base > through) ids.push(id, base);
      const at = generated?.at ?? Date.now();
      await tx.query(
        `WITH views AS (
           INSERT INTO pending_views (log_partition, batch_through, bucket, region, page_name, views)
           SELECT $1, $2, timestamptz 'epoch' + q::bigint * interval '1 millisecond', r, n, c::bigint
           FROM ROWS FROM (json_array_elements_text($3::json), json_array_elements_text($4::json),
                           json_array_elements_text($5::json), json_array_elements_text($6::json)) AS u(q, r, n, c)),
         bots AS (
           INSERT INTO pending_bots (log_partition, batch_through, bucket, hits)
           SELECT $1, $2, timestamptz 'epoch' + q * interval '1 millisecond', c FROM unnest($7::bigint[], $8::bigint[]) AS u(q, c)),
         window_ids AS (
           INSERT INTO recent_batches (log_partition, recorded_at, keep_until, requests)
           SELECT $1, timestamptz 'epoch' + $9::bigint * interval '1 millisecond',
                  timestamptz 'epoch' + ($9::bigint + $10::bigint) * interval '1 millisecond', $11::text
           WHERE $11::text IS NOT NULL)
         UPDATE processed_offsets SET through = $2 WHERE log_partition = $1`,
        [
          partition,
          delta.last,
          JSON.stringify(delta.buckets),
          JSON.stringify(delta.regions),
          JSON.stringify(delta.pages),
          JSON.stringify(delta.views),
          delta.botBuckets,
          delta.botHits,
          at,
          requests?.windowMs ?? 0,
          ids.length === 0 ? null : JSON.stringify(ids),
        ],
      );
    }
    return recorded;
  });
}

/** The partition's position, locked until the transaction ends; a partition never claimed starts at -1. */
async function lockPosition(tx: SqlClient, partition: number): Promise<number> {
  const select = 'SELECT through::text AS t FROM processed_offsets WHERE log_partition = $1 FOR UPDATE';
  let { rows } = await tx.query<{ t: string }>(select, [partition]);
  if (rows.length === 0) {
    await tx.query('INSERT INTO processed_offsets (log_partition, through) VALUES ($1, -1) ON CONFLICT (log_partition) DO NOTHING', [partition]);
    ({ rows } = await tx.query<{ t: string }>(select, [partition]));
  }
  return Number(rows[0]!.t);
}

interface Delta {
  events: number;
  last: number;
  buckets: number[];
  regions: string[];
  pages: string[];
  views: number[];
  botBuckets: number[];
  botHits: number[];
}

/** Counts of the events above `through`, per (UTC quarter hour, region, page) and bot hits per quarter hour. */
function countNew(list: readonly ProcessedEvent[], through: number): Delta {
  const views = new Map<number, Map<string, Map<string, number>>>();
  const bots = new Map<number, number>();
  let events = 0;
  let last = through;
  for (const e of list) {
    const offset = Number(e.offset);
    if (offset <= through) continue;
    events++;
    if (offset > last) last = offset;
    const q = e.timestamp - (e.timestamp % QUARTER_HOUR_MS);
    if (e.bot) {
      bots.set(q, (bots.get(q) ?? 0) + 1);
      continue;
    }
    let regions = views.get(q);
    if (regions === undefined) views.set(q, (regions = new Map()));
    let pages = regions.get(e.region);
    if (pages === undefined) regions.set(e.region, (pages = new Map()));
    pages.set(e.pageName, (pages.get(e.pageName) ?? 0) + 1);
  }
  const d: Delta = { events, last, buckets: [], regions: [], pages: [], views: [], botBuckets: [...bots.keys()], botHits: [...bots.values()] };
  for (const [q, regions] of views) {
    for (const [region, pages] of regions) {
      for (const [page, n] of pages) {
        d.buckets.push(q);
        d.regions.push(region);
        d.pages.push(page);
        d.views.push(n);
      }
    }
  }
  return d;
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

/** A partition's recorded batches whose generated ids are still kept (relative to its latest batch), oldest first. */
export async function recentBatches(db: SqlClient, partition: number): Promise<RecentBatch[]> {
  const { rows } = await db.query<{ at: number; requests: string }>(
    `SELECT (extract(epoch FROM recorded_at) * 1000)::float8 AS at, requests FROM recent_batches
     WHERE log_partition = $1 AND keep_until >= (SELECT max(recorded_at) FROM recent_batches WHERE log_partition = $1)
     ORDER BY recorded_at`,
    [partition],
  );
  return rows.map((r) => {
    const flat = JSON.parse(r.requests) as Array<string | number>;
    const requests: WindowRequest[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) requests.push([String(flat[i]), Number(flat[i + 1])]);
    return { at: Number(r.at), requests };
  });
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

/** Adds every pending delta to the rollups of its local day, week, month, quarter and year, and deletes it. */
export async function foldPending(db: SqlDatabase, timeZone: string, weekStart: WeekStart): Promise<FoldResult> {
  const shift = weekShift(weekStart);
  return await db.transaction(async (tx) => {
    await lockConsolidation(tx);
    await tx.query(`CREATE TEMP TABLE fold_days (day timestamptz, region text COLLATE "C", page_name text COLLATE "C", views bigint) ON COMMIT DROP`);
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
      await addDayDifferences(tx, 'fold_days', timeZone);
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
    // Request ids no other copy can meet any more. A partition's generated ids are kept relative to
    // its latest recorded batch, so a partition whose processing stopped keeps its last minutes.
    await tx.query('DELETE FROM recent_requests WHERE keep_until < now()');
    await tx.query(
      `DELETE FROM recent_batches AS b USING (SELECT log_partition, max(recorded_at) AS latest FROM recent_batches GROUP BY log_partition) AS l
       WHERE b.log_partition = l.log_partition AND b.keep_until < l.latest`,
    );
    await tx.query(
      `INSERT INTO consolidation_runs (window_start, window_end, time_zone, daily_rows, weekly_rows, monthly_rows, mode)
       VALUES (now(), now(), $1, $2, $3, $4, 'fold')`,
      [timeZone, result.daily, result.weekly, result.monthly],
    );
    return result;
  });
}
