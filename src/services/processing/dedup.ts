import type { LoggedEvent } from '../../domain/event.js';
import type { RecordedRequest, RequestCopy } from '../../ports/rollup-store.js';

/**
 * How long another copy of an unkeyed request can still arrive: a produce retried after its
 * acknowledgement was lost comes back within the client's retry time (seconds), so minutes bound it.
 */
export const RETRY_WINDOW_MS = 5 * 60_000;

/**
 * Drops the events of every copy of a request but the first one stored. A copy is named by its
 * partition and the offset of its first event (`offset - index`: a request's events are one run
 * of consecutive messages, written by one produce call). The first copy is the one the rollup
 * store already knows, or else the first in this batch; `requests` are the ones to record.
 */
export function dropCopies(
  batch: readonly LoggedEvent[],
  known: ReadonlyMap<string, RequestCopy>,
  keepUntil: (requestId: string) => number,
): { kept: LoggedEvent[]; copies: number; requests: RecordedRequest[] } {
  const first = new Map<string, RequestCopy>();
  const kept: LoggedEvent[] = [];
  let copies = 0;
  for (const e of batch) {
    if (e.requestId === undefined || e.index === undefined) {
      kept.push(e);
      continue;
    }
    const copy: RequestCopy = { partition: e.partition, baseOffset: (BigInt(e.offset) - BigInt(e.index)).toString() };
    let stored = known.get(e.requestId) ?? first.get(e.requestId);
    if (stored === undefined) first.set(e.requestId, (stored = copy));
    if (stored.partition === copy.partition && stored.baseOffset === copy.baseOffset) kept.push(e);
    else copies++;
  }
  const requests = [...first].map(([requestId, c]) => ({ requestId, ...c, keepUntil: keepUntil(requestId) }));
  return { kept, copies, requests };
}

/** Unique request ids of a batch. */
export function requestIdsOf(batch: readonly LoggedEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of batch) if (e.requestId !== undefined) ids.add(e.requestId);
  return [...ids];
}
