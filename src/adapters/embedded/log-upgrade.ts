import type { SqlDatabase } from '../postgres/database.js';

/**
 * Releases before 0.3 kept the embedded event log in the same database as the event store and
 * the rollups. It now has a database of its own, so a page view's commit never waits behind a
 * consolidation. This moves what the old log still held into the new one, once.
 *
 * The trap is the offsets: an event's identity in the event store is (partition 0, offset), and
 * the old log trimmed consumed entries, so the new log's offsets must continue after the highest
 * offset the old sequence ever gave out, or new events would collide with stored ones and vanish.
 * Safe to run again after a crash half-way: entries are inserted with their offsets (a redelivery
 * overwrites itself in the event store), offsets and the sequence only move forward.
 */
export async function moveEventLog(from: SqlDatabase, into: SqlDatabase): Promise<void> {
  const { rows: present } = await from.query<{ log: boolean; offsets: boolean }>(
    `SELECT to_regclass('event_log') IS NOT NULL AS log, to_regclass('consumer_offsets') IS NOT NULL AS offsets`,
  );
  if (present[0]?.log !== true) return;
  const { rows: entries } = await from.query<{ o: string; ts: string; region: string; page_name: string; bot: boolean }>(
    'SELECT log_offset::text AS o, ts::text AS ts, region, page_name, bot FROM event_log ORDER BY log_offset',
  );
  const { rows: seq } = await from.query<{ v: string }>(
    `SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS v FROM event_log_log_offset_seq`,
  );
  const offsets =
    present[0]?.offsets === true
      ? (await from.query<{ group_id: string; committed: string }>('SELECT group_id, committed::text AS committed FROM consumer_offsets')).rows
      : [];
  const highest = [seq[0]?.v ?? '0', ...entries.map((e) => e.o), ...offsets.map((o) => o.committed)].reduce((a, b) => (BigInt(a) >= BigInt(b) ? a : b));

  await into.transaction(async (tx) => {
    if (entries.length > 0) {
      await tx.query(
        `INSERT INTO event_log (log_offset, ts, region, page_name, bot) OVERRIDING SYSTEM VALUE
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::boolean[])
         ON CONFLICT (log_offset) DO NOTHING`,
        [entries.map((e) => e.o), entries.map((e) => e.ts), entries.map((e) => e.region), entries.map((e) => e.page_name), entries.map((e) => e.bot)],
      );
    }
    for (const o of offsets) {
      await tx.query(
        `INSERT INTO consumer_offsets (group_id, committed) VALUES ($1, $2)
         ON CONFLICT (group_id) DO UPDATE SET committed = GREATEST(consumer_offsets.committed, EXCLUDED.committed)`,
        [o.group_id, o.committed],
      );
    }
    await tx.query(
      `SELECT setval('event_log_log_offset_seq', GREATEST($1::bigint,
         (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM event_log_log_offset_seq), 1))`,
      [highest],
    );
  });
  await from.transaction(async (tx) => {
    await tx.query('DROP TABLE event_log');
    if (present[0]?.offsets === true) await tx.query('DROP TABLE consumer_offsets');
  });
}
