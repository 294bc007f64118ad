import { describe, expect, it } from 'vitest';
import { backoff, backoffDelay, pause } from '../../src/domain/backoff.js';

describe('backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    const policy = { baseMs: 100, capMs: 5_000 };
    expect([1, 2, 3, 4, 5, 6, 20].map((attempt) => backoffDelay(attempt, policy))).toEqual([200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });

  it('a shutdown cuts a pause short: it resolves when the signal aborts, not when the hour is up', async () => {
    const stop = new AbortController();
    const waiting = pause(3_600_000, stop.signal).then(() => 'resumed');
    stop.abort();
    expect(await waiting).toBe('resumed');
  });

  it('does not wait at all once the signal has aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await backoff(30, { baseMs: 1_000, capMs: 3_600_000 }, stop.signal).then(() => 'resumed')).toBe('resumed');
  });

  it('waits out the delay without a signal', async () => {
    expect(await backoff(1, { baseMs: 1, capMs: 10 }).then(() => 'resumed')).toBe('resumed');
  });
});
