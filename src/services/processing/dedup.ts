import type { LoggedEvent } from '../../domain/event.js';
import type { RecentBatch, RequestCopy, WindowRequest } from '../../ports/rollup-store.js';

/**
 * How long another copy of an unkeyed request can still arrive: a produce retried after its
 * acknowledgement was lost comes back within the client's retry time (kafkajs: six attempts of at
 * most 30 s each, with backoff), so minutes bound it.
 */
export const RETRY_WINDOW_MS = 5 * 60_000;

/** Requests with an `Idempotency-Key` (ingest prefixes the key); all others have a generated id. */
export const isKeyed = (requestId: string): boolean => requestId.startsWith('k:');

/** A request's first copy: its partition, and the offset of its first event (`offset - index`). */
export interface FirstCopy {
  partition: number;
  /** a number: offsets stay below 2^53 (285 years at a million events a second) */
  base: number;
}

/** A request this batch stored first. */
export interface FirstSeen extends FirstCopy {
  requestId: string;
}

/**
 * Drops the events of every copy of a request but the first one stored. A copy is named by its
 * partition and the offset of its first event (a request's events are one run of consecutive
 * messages, written by one produce call). The first copy is the one `known` returns (recorded
 * before), or else the first in this batch; `requests` are the ones this batch stored first.
 */
export function dropCopies(
  batch: readonly LoggedEvent[],
  known: (requestId: string, partition: number) => FirstCopy | undefined,
): { kept: LoggedEvent[]; copies: number; requests: FirstSeen[] } {
  const first = new Map<string, FirstCopy>();
  const kept: LoggedEvent[] = [];
  let copies = 0;
  for (const e of batch) {
    const id = e.requestId;
    if (id === undefined || e.index === undefined) {
      kept.push(e);
      continue;
    }
    const base = Number(e.offset) - e.index;
    let stored = known(id, e.partition) ?? first.get(id);
    if (stored === undefined) first.set(id, (stored = { partition: e.partition, base }));
    if (stored.partition === e.partition && stored.base === base) kept.push(e);
    else copies++;
  }
  const requests: FirstSeen[] = [];
  for (const [requestId, c] of first) requests.push({ requestId, partition: c.partition, base: c.base });
  return { kept, copies, requests };
}

/** Unique `Idempotency-Key` request ids of a batch: the only ones looked up in the rollup store. */
export function keyedIdsOf(batch: readonly LoggedEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of batch) if (e.requestId !== undefined && isKeyed(e.requestId)) ids.add(e.requestId);
  return [...ids];
}

export const toFirstCopy = (c: RequestCopy): FirstCopy => ({ partition: c.partition, base: Number(c.baseOffset) });

interface PartitionWindow {
  /** the offset after the last batch this process recorded: a batch starting elsewhere means others may have processed the gap */
  next: number;
  /** generated request id → offset of its first copy's first event */
  ids: Map<string, number>;
  /** in the order recorded, for eviction */
  batches: Array<{ at: number; ids: string[] }>;
  /** the latest batch time recorded: the window reaches back `windowMs` from it */
  latest: number;
}

/**
 * Generated request ids, per partition, in memory: a copy of an unkeyed request is the same
 * produce request sent again by the same producer to the same partition (ingest picks the
 * partition before sending; kafkajs retries it there), so it is later in the same partition's log,
 * within RETRY_WINDOW_MS. A partition's window is only trusted while this process has handled the
 * partition without a gap since the window was built; at the first batch after start, after a
 * rebalance gave the partition to another member for a while (offsets jump), or after any other
 * gap, it is rebuilt from the rollup store, which keeps each recorded batch's first-seen ids as
 * one row in the same transaction that moves the partition's position: everything before the
 * committed offset is recorded there, so a copy whose first copy was processed before a restart,
 * by this process or another, is still known. The window is measured from the partition's latest
 * recorded batch, not from now, so processing that stops for a while forgets nothing; and on the log's
 * clock (Kafka's record timestamps, where there are any): a retried produce is sent again within
 * seconds of its first send by the producer's clock, so a consumer catching up a backlog holds the
 * ids of 5 minutes of traffic, not of 5 minutes of its own (much faster) reading. That assumes the
 * ingest hosts' clocks agree within a few minutes; without record times, processing's clock is used.
 */
export class RequestWindow {
  private readonly partitions = new Map<number, PartitionWindow>();

  constructor(
    private readonly load: (partition: number) => Promise<RecentBatch[]>,
    readonly windowMs = RETRY_WINDOW_MS,
  ) {}

  /** The generated ids known for a partition whose batch starts at `first`. */
  async of(partition: number, first: number): Promise<ReadonlyMap<string, number>> {
    const w = this.partitions.get(partition);
    if (w !== undefined && w.next === first) return w.ids;
    const rebuilt: PartitionWindow = { next: first, ids: new Map(), batches: [], latest: Number.NEGATIVE_INFINITY };
    for (const b of await this.load(partition)) this.push(rebuilt, b.at, b.requests);
    this.partitions.set(partition, rebuilt);
    return rebuilt.ids;
  }

  /** After the batch `[.., last]` of the partition is recorded: its first-seen generated ids join the window. */
  recorded(partition: number, last: number, at: number, requests: readonly WindowRequest[]): void {
    const w = this.partitions.get(partition);
    if (w === undefined) return;
    w.next = last + 1;
    if (requests.length > 0) {
      // first seen by this batch, so not in the window yet: no lookup before the insert
      const ids: string[] = new Array(requests.length);
      for (let i = 0; i < requests.length; i++) {
        const [id, base] = requests[i]!;
        w.ids.set(id, base);
        ids[i] = id;
      }
      w.batches.push({ at, ids });
    }
    if (at > w.latest) w.latest = at;
    const oldest = w.latest - this.windowMs;
    while (w.batches.length > 0 && w.batches[0]!.at < oldest) for (const id of w.batches.shift()!.ids) w.ids.delete(id);
  }

  /** Ids held, for metrics. */
  size(): number {
    let n = 0;
    for (const w of this.partitions.values()) n += w.ids.size;
    return n;
  }

  /** A batch of a rebuilt window. */
  private push(w: PartitionWindow, at: number, requests: readonly WindowRequest[]): void {
    if (requests.length === 0) return;
    const ids: string[] = [];
    for (const [id, base] of requests) {
      // Only a request's first recorder writes it (under the position's row lock); should a row list it
      // again all the same, the first copy is the one at the lower offset.
      const had = w.ids.get(id);
      if (had === undefined || base < had) w.ids.set(id, base);
      if (had === undefined) ids.push(id);
    }
    w.batches.push({ at, ids });
    if (at > w.latest) w.latest = at;
  }
}
