import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addDays, customRange, dayCount, isPreset, lastDay, parseIsoDate, presetLabel, presetRange, previousRange, toIsoDate, type DateRange } from './ranges';

const days = (range: DateRange) => [toIsoDate(range.start), toIsoDate(lastDay(range))];

describe('ranges in the browser zone', () => {
  // Berlin has DST: 29 March 2026 is 23 hours long. Vitest runs each file in its own process.
  // Node applies a changed TZ at once.
  beforeAll(() => {
    vi.stubEnv('TZ', 'Europe/Berlin');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  const now = () => new Date(2026, 3, 15, 13, 45); // 15 April 2026, local

  it('presets are whole local days ending today', () => {
    expect(days(presetRange('today', now()))).toEqual(['2026-04-15', '2026-04-15']);
    expect(days(presetRange('7d', now()))).toEqual(['2026-04-09', '2026-04-15']);
    expect(days(presetRange('30d', now()))).toEqual(['2026-03-17', '2026-04-15']);
    expect(days(presetRange('this-month', now()))).toEqual(['2026-04-01', '2026-04-15']);
    expect(days(presetRange('last-month', now()))).toEqual(['2026-03-01', '2026-03-31']);
    expect(days(presetRange('12m', now()))).toEqual(['2025-05-01', '2026-04-15']);
  });

  it('counts days, not hours, across a DST switch', () => {
    expect(new Date(2026, 2, 29, 12).getTimezoneOffset()).toBe(-120);
    const range = presetRange('30d', now());
    expect(dayCount(range)).toBe(30);
    expect(range.end.getTime() - range.start.getTime()).toBe(30 * 86_400_000 - 3_600_000);
    expect(range.start.getHours()).toBe(0);
    expect(days(previousRange(range))).toEqual(['2026-02-15', '2026-03-16']);
    expect(toIsoDate(addDays(new Date(2026, 2, 28), 1))).toBe('2026-03-29');
  });

  it('"today" in January goes back to last year for 12 months', () => {
    expect(days(presetRange('12m', new Date(2027, 0, 3)))).toEqual(['2026-02-01', '2027-01-03']);
  });
});

describe('ranges in New York', () => {
  // New York falls back on 1 November 2026 (a 25-hour day) and springs forward on 8 March 2026.
  beforeAll(() => {
    vi.stubEnv('TZ', 'America/New_York');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('a week across the fall-back is seven days of 169 hours', () => {
    expect(new Date(2026, 10, 2, 12).getTimezoneOffset()).toBe(300);
    const range = presetRange('7d', new Date(2026, 10, 3, 8));
    expect(days(range)).toEqual(['2026-10-28', '2026-11-03']);
    expect(dayCount(range)).toBe(7);
    expect(range.end.getTime() - range.start.getTime()).toBe(7 * 86_400_000 + 3_600_000);
    expect(days(previousRange(range))).toEqual(['2026-10-21', '2026-10-27']);
  });

  it('"today" on a switch day is the whole local day, 23 or 25 hours', () => {
    const spring = presetRange('today', new Date(2026, 2, 8, 15));
    expect([spring.start.getHours(), spring.end.getTime() - spring.start.getTime()]).toEqual([0, 23 * 3_600_000]);
    const autumn = presetRange('today', new Date(2026, 10, 1, 15));
    expect([autumn.start.getHours(), autumn.end.getTime() - autumn.start.getTime()]).toEqual([0, 25 * 3_600_000]);
  });

  it('a custom range across the spring switch counts its calendar days', () => {
    const range = customRange('2026-03-01', '2026-03-31')!;
    expect(dayCount(range)).toBe(31);
    expect(range.end.getTime() - range.start.getTime()).toBe(31 * 86_400_000 - 3_600_000);
    expect(days(presetRange('last-month', new Date(2026, 3, 1, 0, 30)))).toEqual(['2026-03-01', '2026-03-31']);
  });
});

describe('dates', () => {
  it('parses real YYYY-MM-DD dates only', () => {
    expect(toIsoDate(parseIsoDate('2028-02-29')!)).toBe('2028-02-29');
    for (const bad of ['2026-02-29', '2026-13-01', '2026-1-1', '', null, undefined, '2026-11-30T00:00']) {
      expect(parseIsoDate(bad)).toBeNull();
    }
  });

  it('a custom range includes both ends and puts them in order', () => {
    expect(days(customRange('2026-11-30', '2026-11-01')!)).toEqual(['2026-11-01', '2026-11-30']);
    expect(dayCount(customRange('2026-11-01', '2026-11-01')!)).toBe(1);
    expect(customRange('2026-11-01', 'nope')).toBeNull();
  });

  it('knows its presets', () => {
    expect(isPreset('12m')).toBe(true);
    expect(isPreset('1y')).toBe(false);
    expect(isPreset(null)).toBe(false);
    expect(presetLabel('7d')).toBe('Last 7 days');
  });
});
