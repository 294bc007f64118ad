import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/domain/duration.js';
import {
  chunkDays,
  coveringDays,
  type Decomposition,
  type PieceSet,
  dataEnd,
  decomposeDays,
  localDate,
  parseInstant,
  parseLocalDate,
  parseWeekStart,
  periodOf,
  periodStarts,
  previousDays,
  type WeekStart,
} from '../../src/domain/periods.js';

const at = (iso: string): number => Date.parse(iso);
const isoPeriod = (p: { start: number; end: number }): [string, string] => [new Date(p.start).toISOString(), new Date(p.end).toISOString()];

describe('periods', () => {
  it('days are local and 23 or 25 hours long across DST', () => {
    expect(isoPeriod(periodOf('daily', at('2026-03-29T12:00:00Z'), 'Europe/Berlin', 1))).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(isoPeriod(periodOf('daily', at('2026-10-25T12:00:00Z'), 'Europe/Berlin', 1))).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
  });

  it('ISO week 1 can begin in December; weeks can start on any day', () => {
    expect(isoPeriod(periodOf('weekly', at('2026-01-01T00:00:00Z'), 'UTC', 1))[0]).toBe('2025-12-29T00:00:00.000Z');
    expect(isoPeriod(periodOf('weekly', at('2026-01-01T00:00:00Z'), 'UTC', 7))[0]).toBe('2025-12-28T00:00:00.000Z');
    expect(isoPeriod(periodOf('weekly', at('2026-01-03T00:00:00Z'), 'UTC', 6))[0]).toBe('2026-01-03T00:00:00.000Z');
  });

  it('months are calendar months, leap February included', () => {
    expect(isoPeriod(periodOf('monthly', at('2024-02-29T23:59:59Z'), 'UTC', 1))).toEqual(['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
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

describe('decomposeDays', () => {
  const DAY = 86_400_000;
  /**
   * The local dates a decomposition covers, each piece expanded to its days, subtracted pieces
   * taking their days away, in order; a day counted twice, or taken away more often than
   * added, shows up as a repeat or a `-` entry.
   */
  function expand(d: Decomposition, zone: string, weekStart: WeekStart): string[] {
    const count = new Map<string, number>();
    const add = (start: number, end: number, sign: number) => {
      for (let t = start; t < end; t = DateTime.fromMillis(t, { zone }).plus({ days: 1 }).startOf('day').toMillis()) {
        count.set(localDate(t, zone), (count.get(localDate(t, zone)) ?? 0) + sign);
      }
    };
    const calendar = (date: string, months: number): [number, number] => {
      const first = DateTime.fromISO(date, { zone }).startOf('day');
      return [first.toMillis(), first.plus({ months }).startOf('day').toMillis()];
    };
    for (const [set, sign] of [
      [d, 1],
      [d.minus, -1],
    ] as const) {
      if (set === undefined) continue;
      for (const y of set.years) add(...calendar(y, 12), sign);
      for (const q of set.quarters) add(...calendar(q, 3), sign);
      for (const m of set.months) add(m, periodOf('monthly', m, zone, weekStart).end, sign);
      for (const w of set.weeks) add(w, periodOf('weekly', w, zone, weekStart).end, sign);
      for (const day of set.days) add(day, periodOf('daily', day, zone, weekStart).end, sign);
    }
    return [...count]
      .filter(([, n]) => n !== 0)
      .flatMap(([date, n]) => (n > 0 ? Array.from({ length: n }, () => date) : [`-${date}`]))
      .sort();
  }
  const setCount = (s: PieceSet | undefined): number =>
    s === undefined ? 0 : s.years.length + s.quarters.length + s.months.length + s.weeks.length + s.days.length;
  const pieceCount = (d: Decomposition): number => setCount(d) + setCount(d.minus);

  it('partitions any range of local days into whole months, whole weeks and days, each day once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2023, 0, 1), max: Date.UTC(2027, 0, 1) }),
        fc.integer({ min: 1, max: 450 }),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Pacific/Chatham'),
        fc.constantFrom<WeekStart>(1, 3, 7),
        (instant, length, zone, weekStart) => {
          const days = coveringDays(instant, instant + length * DAY, zone);
          const pieces = decomposeDays(days, zone, weekStart);
          const expected: string[] = [];
          for (let t = days.start; t < days.end; t = DateTime.fromMillis(t, { zone }).plus({ days: 1 }).startOf('day').toMillis()) {
            expected.push(localDate(t, zone));
          }
          expect(expand(pieces, zone, weekStart)).toEqual(expected);
          // Few rows: at most 6 edge days on each side of each whole-week run, and subtracted
          // days only where they make fewer pieces than adding.
          expect(pieces.days.length + (pieces.minus?.days.length ?? 0)).toBeLessThanOrEqual(24);
          expect(pieceCount(pieces)).toBeLessThanOrEqual(Math.ceil(length / 28) + 2 * 6 + 4 * 2 + 2);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('reads no day after the end of the data twice, and every day before it once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2023, 0, 1), max: Date.UTC(2027, 0, 1) }),
        fc.integer({ min: 1, max: 450 }),
        fc.integer({ min: -460, max: 30 }),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Pacific/Chatham'),
        fc.constantFrom<WeekStart>(1, 3, 7),
        (instant, length, nowShift, zone, weekStart) => {
          const days = coveringDays(instant, instant + length * DAY, zone);
          const end = dataEnd(days.end + nowShift * DAY, zone);
          const pieces = decomposeDays(days, zone, weekStart, end);
          const before = (date: string) => DateTime.fromISO(date, { zone }).toMillis() < end;
          const expected: string[] = [];
          for (let t = days.start; t < Math.min(days.end, end); t = DateTime.fromMillis(t, { zone }).plus({ days: 1 }).startOf('day').toMillis()) {
            expected.push(localDate(t, zone));
          }
          expect(expand(pieces, zone, weekStart).filter((date) => before(date.replace(/^-/, '')))).toEqual(expected);
          expect(pieceCount(pieces)).toBeLessThanOrEqual(pieceCount(decomposeDays(days, zone, weekStart)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads a range that reaches the end of the data as whole years and quarters', () => {
    const now = at('2026-12-07T14:00:00Z');
    // The dashboard's 12 months on 7 December: 1 January … 7 December is this year's row.
    expect(decomposeDays({ start: at('2026-01-01T00:00:00Z'), end: at('2026-12-08T00:00:00Z') }, 'UTC', 1, dataEnd(now, 'UTC'))).toEqual({
      years: ['2026-01-01'],
      quarters: [],
      months: [],
      weeks: [],
      days: [],
    });
    // … and on 15 June 2027: two quarters of 2026, then 2027 so far.
    const june = decomposeDays({ start: at('2026-07-01T00:00:00Z'), end: at('2027-06-16T00:00:00Z') }, 'UTC', 1, dataEnd(at('2027-06-15T10:00:00Z'), 'UTC'));
    expect(june).toEqual({ years: ['2027-01-01'], quarters: ['2026-07-01', '2026-10-01'], months: [], weeks: [], days: [] });
    // Without that end, the rest of the year is subtracted: the year minus December, plus 1–7 December.
    const ymd = (list: number[] | undefined) => (list ?? []).map((t) => new Date(t).toISOString().slice(0, 10));
    const open = decomposeDays({ start: at('2026-01-01T00:00:00Z'), end: at('2026-12-08T00:00:00Z') }, 'UTC', 1);
    expect({
      years: open.years,
      weeks: ymd(open.weeks),
      days: ymd(open.days),
      minus: { months: ymd(open.minus?.months), days: ymd(open.minus?.days) },
    }).toEqual({
      years: ['2026-01-01'],
      weeks: ['2026-11-30'],
      days: ['2026-12-07'],
      minus: { months: ['2026-12-01'], days: ['2026-11-30'] },
    });
    // The end of the data is the day after today, later by an hour for other processes' clocks.
    expect(new Date(dataEnd(now, 'UTC')).toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(new Date(dataEnd(at('2026-12-07T23:30:00Z'), 'UTC')).toISOString()).toBe('2026-12-09T00:00:00.000Z');
  });

  it('takes whole years, quarters, months and weeks where it can', () => {
    const year = decomposeDays({ start: at('2025-01-01T00:00:00Z'), end: at('2026-01-01T00:00:00Z') }, 'UTC', 1);
    expect(year).toEqual({ years: ['2025-01-01'], quarters: [], months: [], weeks: [], days: [] });
    const third = decomposeDays({ start: at('2025-04-01T00:00:00Z'), end: at('2025-09-01T00:00:00Z') }, 'UTC', 1);
    expect({ quarters: third.quarters, months: third.months.map((t) => new Date(t).toISOString().slice(0, 10)) }).toEqual({
      quarters: ['2025-04-01'],
      months: ['2025-07-01', '2025-08-01'],
    });
    // Mon 2025-11-10 … Tue 2025-12-02: three whole weeks, then Monday and Tuesday (subtracting
    // the month minus 1–9 November would be four pieces)
    const d = decomposeDays({ start: at('2025-11-10T00:00:00Z'), end: at('2025-12-03T00:00:00Z') }, 'UTC', 1);
    expect(d.months).toEqual([]);
    expect(d.minus).toBeUndefined();
    expect(d.weeks.map((w) => new Date(w).toISOString().slice(0, 10))).toEqual(['2025-11-10', '2025-11-17', '2025-11-24']);
    expect(d.days.map((w) => new Date(w).toISOString().slice(0, 10))).toEqual(['2025-12-01', '2025-12-02']);
    // Sun 2025-11-09 … Wed 2025-11-12 within one week: days
    expect(decomposeDays({ start: at('2025-11-09T00:00:00Z'), end: at('2025-11-13T00:00:00Z') }, 'UTC', 1)).toEqual({
      years: [],
      quarters: [],
      months: [],
      weeks: [],
      days: ['2025-11-09', '2025-11-10', '2025-11-11', '2025-11-12'].map((x) => at(`${x}T00:00:00Z`)),
    });
  });

  it('period starts equal stepping with luxon, across DST changes, gaps at midnight and half-hour offsets', () => {
    const reference = (g: 'daily' | 'weekly' | 'monthly', start: number, end: number, zone: string, weekStart: WeekStart): number[] => {
      const step = g === 'daily' ? { days: 1 } : g === 'weekly' ? { weeks: 1 } : { months: 1 };
      const out: number[] = [];
      let cursor = DateTime.fromMillis(periodOf(g, start, zone, weekStart).start, { zone });
      while (cursor.toMillis() < end) {
        out.push(cursor.toMillis());
        cursor = cursor.plus(step).startOf('day');
      }
      return out;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1890, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.integer({ min: 1, max: 800 }),
        fc.constantFrom<'daily' | 'weekly' | 'monthly'>('daily', 'weekly', 'monthly'),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/Santiago', 'America/Havana', 'Asia/Beirut', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Apia'),
        fc.constantFrom<WeekStart>(1, 7),
        (instant, length, g, zone, weekStart) => {
          const end = instant + length * (g === 'monthly' ? 10 : 1) * DAY;
          expect(periodStarts(g, instant, end, zone, weekStart)).toEqual(reference(g, instant, end, zone, weekStart));
        },
      ),
      { numRuns: 150 },
    );
    // America/Santiago skips midnight: 2022-09-11 begins at 01:00 local.
    const santiago = periodStarts('daily', at('2022-09-10T12:00:00Z'), at('2022-09-13T12:00:00Z'), 'America/Santiago', 1);
    expect(santiago.map((t) => DateTime.fromMillis(t, { zone: 'America/Santiago' }).toISO())).toEqual([
      '2022-09-10T00:00:00.000-04:00',
      '2022-09-11T01:00:00.000-03:00',
      '2022-09-12T00:00:00.000-03:00',
      '2022-09-13T00:00:00.000-03:00',
    ]);
  });

  it('takes a month or a week cut by the range whole, minus its days outside, when that reads fewer rows', () => {
    // 30 days, Tue 2026-11-03 … Wed 2026-12-02: November minus 1–2 November, plus 1–2 December
    const d = decomposeDays({ start: at('2026-11-03T00:00:00Z'), end: at('2026-12-03T00:00:00Z') }, 'UTC', 1);
    const ymd = (list: number[] | undefined) => (list ?? []).map((t) => new Date(t).toISOString().slice(0, 10));
    expect({ months: ymd(d.months), weeks: ymd(d.weeks), days: ymd(d.days), minus: { weeks: ymd(d.minus?.weeks), days: ymd(d.minus?.days) } }).toEqual({
      months: ['2026-11-01'],
      weeks: [],
      days: ['2026-12-01', '2026-12-02'],
      minus: { weeks: [], days: ['2026-11-01', '2026-11-02'] },
    });
    // Mon 2 … Sun 22 November: three whole weeks, cheaper than the month minus four pieces.
    expect(decomposeDays({ start: at('2026-11-02T00:00:00Z'), end: at('2026-11-23T00:00:00Z') }, 'UTC', 1).minus).toBeUndefined();
  });

  it('the previous period has as many local days, across a DST change', () => {
    const days = coveringDays(at('2026-03-29T10:00:00Z'), at('2026-04-04T10:00:00Z'), 'Europe/Berlin');
    const before = previousDays(days, 'Europe/Berlin');
    expect([localDate(before.start, 'Europe/Berlin'), localDate(before.end - 1, 'Europe/Berlin')]).toEqual(['2026-03-22', '2026-03-28']);
    expect(periodStarts('weekly', days.start, days.end, 'Europe/Berlin', 1).map((t) => localDate(t, 'Europe/Berlin'))).toEqual(['2026-03-23', '2026-03-30']);
  });
});
