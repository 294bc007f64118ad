import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/domain/duration.js';
import { chunkDays, parseInstant, parseLocalDate, parseWeekStart, periodOf } from '../../src/domain/periods.js';

const at = (iso: string): number => Date.parse(iso);
const isoPeriod = (p: { start: number; end: number }): [string, string] => [new Date(p.start).toISOString(), new Date(p.end).toISOString()];

describe('periods', () => {
  it('days are local and 23 or 25 hours long across DST', () => {
    expect(isoPeriod(periodOf('daily', at('2026-03-29T12:00:00Z'), 'Europe/Berlin', 1))).toEqual([
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
    ]);
    expect(isoPeriod(periodOf('daily', at('2026-10-25T12:00:00Z'), 'Europe/Berlin', 1))).toEqual([
      '2026-10-24T22:00:00.000Z',
      '2026-10-25T23:00:00.000Z',
    ]);
  });

  it('ISO week 1 can begin in December; weeks can start on any day', () => {
    expect(isoPeriod(periodOf('weekly', at('2026-01-01T00:00:00Z'), 'UTC', 1))[0]).toBe('2025-12-29T00:00:00.000Z');
    expect(isoPeriod(periodOf('weekly', at('2026-01-01T00:00:00Z'), 'UTC', 7))[0]).toBe('2025-12-28T00:00:00.000Z');
    expect(isoPeriod(periodOf('weekly', at('2026-01-03T00:00:00Z'), 'UTC', 6))[0]).toBe('2026-01-03T00:00:00.000Z');
  });

  it('months are calendar months, leap February included', () => {
    expect(isoPeriod(periodOf('monthly', at('2024-02-29T23:59:59Z'), 'UTC', 1))).toEqual([
      '2024-02-01T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
  });

  it('parses query times, local dates, week starts and durations', () => {
    expect(parseInstant('1700000000000', 'UTC')).toBe(1_700_000_000_000);
    expect(parseInstant('2026-01-01', 'Europe/Berlin')).toBe(at('2025-12-31T23:00:00Z'));
    expect(parseInstant('2026-01-01T00:00:00Z', 'Europe/Berlin')).toBe(at('2026-01-01T00:00:00Z'));
    expect(parseInstant('soon', 'UTC')).toBeUndefined();
    expect(parseLocalDate('2026-02-29', 'UTC')).toBeUndefined();
    expect(parseWeekStart('Sunday')).toBe(7);
    expect(parseWeekStart('sun')).toBe(7);
    expect(parseWeekStart('8')).toBeUndefined();
    expect(parseDurationMs('48h')).toBe(172_800_000);
    expect(parseDurationMs('P2D')).toBe(172_800_000);
    expect(parseDurationMs('two days')).toBeUndefined();
  });

  it('splits a backfill into chunks that cover every day once', () => {
    const chunks = chunkDays(parseLocalDate('2026-01-01', 'UTC')!, parseLocalDate('2026-03-05', 'UTC')!, 31);
    expect(chunks.map((c) => [c.from.toISODate(), c.to.toISODate()])).toEqual([
      ['2026-01-01', '2026-01-31'],
      ['2026-02-01', '2026-03-03'],
      ['2026-03-04', '2026-03-05'],
    ]);
  });
});
