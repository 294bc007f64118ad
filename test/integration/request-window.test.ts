// Generated request ids live in memory per partition (RequestWindow), rebuilt from the rollup
// store's per-batch rows whenever this process cannot vouch for the window: its first batch of a
// partition, or a batch that does not follow the last one it recorded (another member had the
// partition meanwhile). Against the real store, on PGlite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import type { LoggedEvent } from '../../src/domain/event.js';
import type { WindowRequest } from '../../src/ports/rollup-store.js';
import { dropCopies, RequestWindow, RETRY_WINDOW_MS } from '../../src/services/processing/dedup.js';
import { createTestDatabase } from '../helpers/postgres.js';

const T = Date.parse('2033-05-04T10:00:00Z');
const ev = (offset: number, requestId: string, index: number): LoggedEvent => ({
  timestamp: T,
  region: 'DE',
  pageName: `/w/${requestId}`,
  bot: false,
  partition: 3,
  offset: String(offset),
  requestId,
  index,
});

describe.each(['PGlite', 'PostgreSQL'])('request window on %s', (kind) => {
  let store: SqlRollupStore;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    if (kind === 'PGlite') {
      store = new SqlRollupStore(await openPglite(undefined));
    } else {
      const database = await createTestDatabase('request_window');
      store = new SqlRollupStore(openPostgres(database.url));
      drop = database.drop;
    }
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await drop();
  });

  /** What processing does with a batch: drop copies against the window, record, then extend the window. */
  const process = async (window: RequestWindow, batch: LoggedEvent[], at: number): Promise<{ kept: number; copies: number; recorded: number }> => {
    const first = Number(batch[0]!.offset);
    const last = Number(batch.at(-1)!.offset);
    const ids = await window.of(3, first);
    const { kept, copies, requests } = dropCopies(batch, (id, partition) => {
      const base = ids.get(id);
      return base === undefined ? undefined : { partition, base };
    });
    const generated: WindowRequest[] = requests.map((r) => [r.requestId, r.base]);
    const recorded = await store.recordProcessed(kept, { generated: new Map([[3, { at, requests: generated }]]), windowMs: RETRY_WINDOW_MS });
    window.recorded(3, last, at, generated);
    return { kept: kept.length, copies, recorded };
  };

  it('a copy arriving after a restart, or after another member had the partition, is still dropped', async () => {
    const a = new RequestWindow(async (p) => await store.recentBatches(p));
    // request r (offsets 10–11) and s (12)
    expect(await process(a, [ev(10, 'r', 0), ev(11, 'r', 1), ev(12, 's', 0)], T)).toEqual({ kept: 3, copies: 0, recorded: 3 });

    // A restart: a new process (empty window) gets r's copy at 13–14, then t at 15.
    const b = new RequestWindow(async (p) => await store.recentBatches(p));
    expect(await process(b, [ev(13, 'r', 0), ev(14, 'r', 1), ev(15, 't', 0)], T + 1_000)).toEqual({ kept: 1, copies: 2, recorded: 1 });

    // Meanwhile process a still believes its window is whole, but the partition moved on without
    // it (b recorded t at 15): its next batch starts at 16, not 13, so it rebuilds and knows t.
    expect(await process(a, [ev(16, 't', 0), ev(17, 'u', 0)], T + 2_000)).toEqual({ kept: 1, copies: 1, recorded: 1 });

    // A batch delivered again (it straddles the position) keeps the first copies and adds only what is new.
    const c = new RequestWindow(async (p) => await store.recentBatches(p));
    expect(await process(c, [ev(15, 't', 0), ev(16, 't', 0), ev(17, 'u', 0), ev(18, 'v', 0)], T + 3_000)).toEqual({ kept: 3, copies: 1, recorded: 1 });

    // Every request once: r twice (two events), s, t, u, v.
    const fold = await store.foldPending('UTC', 1);
    expect(fold.views).toBe(6);
  });

  it("keeps a partition's last minutes relative to its latest batch, not to now", async () => {
    // Timestamps of the batches' recording: only the gaps between them matter, not how long ago they were.
    const at = T - 86_400_000;
    const w = new RequestWindow(async (p) => await store.recentBatches(p));
    await store.claimPartitions([{ partition: 4, through: '99' }]);
    const on4 = (offset: number, id: string): LoggedEvent => ({ ...ev(offset, id, 0), partition: 4 });
    const step = async (batch: LoggedEvent[], t: number) => {
      const ids = await w.of(4, Number(batch[0]!.offset));
      const { kept, requests } = dropCopies(batch, (id, partition) => (ids.has(id) ? { partition, base: ids.get(id)! } : undefined));
      const generated: WindowRequest[] = requests.map((r) => [r.requestId, r.base]);
      await store.recordProcessed(kept, { generated: new Map([[4, { at: t, requests: generated }]]), windowMs: RETRY_WINDOW_MS });
      w.recorded(4, Number(batch.at(-1)!.offset), t, generated);
    };
    await step([on4(100, 'old')], at);
    await step([on4(101, 'recent')], at + RETRY_WINDOW_MS - 1_000);
    // a day later than those batches, and the process restarts: both are still within the
    // partition's last five minutes of processing
    expect((await store.recentBatches(4)).map((b) => b.requests)).toEqual([[['old', 100]], [['recent', 101]]]);
    // one more batch, later than the window after the first: the first is forgotten, in memory and in the store
    await step([on4(102, 'new')], at + RETRY_WINDOW_MS + 1_000);
    expect((await store.recentBatches(4)).map((b) => b.requests)).toEqual([[['recent', 101]], [['new', 102]]]);
    expect(w.size()).toBe(2);
    await store.foldPending('UTC', 1);
    expect((await store.recentBatches(4)).map((b) => b.requests)).toEqual([[['recent', 101]], [['new', 102]]]);
  });
});
