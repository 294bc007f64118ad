import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../../src/domain/event.js';
import { dropCopies } from '../../src/services/processing/dedup.js';

const ev = (partition: number, offset: number, requestId?: string, index?: number): LoggedEvent => ({
  timestamp: 1,
  region: 'DE',
  pageName: '/',
  bot: false,
  partition,
  offset: String(offset),
  ...(requestId === undefined ? {} : { requestId, index }),
});

describe('dropCopies', () => {
  it('keeps the first copy of a request, in the batch or already recorded, and drops the others', () => {
    // request a: offsets 10–11, copied at 12–13 (a retried produce); b: one event; c: recorded before at 3
    const batch = [ev(0, 10, 'a', 0), ev(0, 11, 'a', 1), ev(0, 12, 'a', 0), ev(0, 13, 'a', 1), ev(0, 14, 'b', 0), ev(0, 15, 'c', 0), ev(0, 16)];
    const known = new Map([['c', { partition: 0, base: 3 }]]);
    const { kept, copies, requests } = dropCopies(batch, (id) => known.get(id));
    expect(kept.map((e) => e.offset)).toEqual(['10', '11', '14', '16']);
    expect(copies).toBe(3);
    expect(requests).toEqual([
      { requestId: 'a', partition: 0, base: 10 },
      { requestId: 'b', partition: 0, base: 14 },
    ]);
  });

  it('a batch delivered again keeps every event of the recorded copy', () => {
    const batch = [ev(2, 40, 'x', 0), ev(2, 41, 'x', 1)];
    const { kept, copies } = dropCopies(batch, (id) => (id === 'x' ? { partition: 2, base: 40 } : undefined));
    expect(kept).toHaveLength(2);
    expect(copies).toBe(0);
  });

  it('the second half of a copy split across batches is recognised by its first offset', () => {
    // the original copy starts at 100; this batch holds the end of a copy that started at 102
    const { kept, copies } = dropCopies([ev(0, 103, 'y', 1)], (id) => (id === 'y' ? { partition: 0, base: 100 } : undefined));
    expect(kept).toEqual([]);
    expect(copies).toBe(1);
  });
});
