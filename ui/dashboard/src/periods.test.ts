import { describe, expect, it } from 'vitest';
import { browserTimeZone, periodEnd } from './periods';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

describe('periodEnd', () => {
  it('ends a UTC day, ISO week and month at the next one', () => {
    expect(iso(periodEnd('daily', 'UTC', at('2026-11-30T00:00:00Z')))).toBe('2026-12-01T00:00:00.000Z');
    expect(iso(periodEnd('weekly', 'UTC', at('2026-11-23T00:00:00Z')))).toBe('2026-11-30T00:00:00.000Z');
    expect(iso(periodEnd('monthly', 'UTC', at('2026-12-01T00:00:00Z')))).toBe('2027-01-01T00:00:00.000Z');
    expect(iso(periodEnd('monthly', 'UTC', at('2028-02-01T00:00:00Z')))).toBe('2028-03-01T00:00:00.000Z');
  });

  it('counts calendar days in the zone across daylight-saving switches', () => {
    // Berlin springs forward on 29 March 2026 (a 23-hour day) and falls back on 25 October (25 hours).
    expect(iso(periodEnd('daily', 'Europe/Berlin', at('2026-03-28T23:00:00Z')))).toBe('2026-03-29T22:00:00.000Z');
    expect(iso(periodEnd('daily', 'Europe/Berlin', at('2026-10-24T22:00:00Z')))).toBe('2026-10-25T23:00:00.000Z');
    expect(iso(periodEnd('weekly', 'Europe/Berlin', at('2026-03-22T23:00:00Z')))).toBe('2026-03-29T22:00:00.000Z');
    expect(iso(periodEnd('monthly', 'Europe/Berlin', at('2026-02-28T23:00:00Z')))).toBe('2026-03-31T22:00:00.000Z');
  });

  it('works west of UTC, where a local day starts on the UTC day before', () => {
    expect(iso(periodEnd('monthly', 'America/New_York', at('2026-11-01T04:00:00Z')))).toBe('2026-12-01T05:00:00.000Z');
  });

  it('counts calendar days in New York across its daylight-saving switches', () => {
    // New York springs forward on 8 March 2026 (23 hours) and falls back on 1 November (25 hours).
    const spring = at('2026-03-08T05:00:00Z');
    expect(iso(periodEnd('daily', 'America/New_York', spring))).toBe('2026-03-09T04:00:00.000Z');
    expect(periodEnd('daily', 'America/New_York', spring) - spring).toBe(23 * HOUR);
    const autumn = at('2026-11-01T04:00:00Z');
    expect(iso(periodEnd('daily', 'America/New_York', autumn))).toBe('2026-11-02T05:00:00.000Z');
    expect(periodEnd('daily', 'America/New_York', autumn) - autumn).toBe(25 * HOUR);
    expect(iso(periodEnd('monthly', 'America/New_York', at('2026-03-01T05:00:00Z')))).toBe('2026-04-01T04:00:00.000Z');
    // the day before a switch is an ordinary 24 hours
    expect(iso(periodEnd('daily', 'America/New_York', at('2026-03-07T05:00:00Z')))).toBe('2026-03-08T05:00:00.000Z');
  });

  it('a week is seven calendar days from its first day, whether weeks start on Sunday or Monday', () => {
    // Sunday-start weeks in New York: the week of 1 March ends before the switch (168 h), the week of 8 March contains it (167 h).
    expect(iso(periodEnd('weekly', 'America/New_York', at('2026-03-01T05:00:00Z')))).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(periodEnd('weekly', 'America/New_York', at('2026-03-08T05:00:00Z')))).toBe('2026-03-15T04:00:00.000Z');
    expect(iso(periodEnd('weekly', 'America/New_York', at('2026-10-25T04:00:00Z')))).toBe('2026-11-01T04:00:00.000Z');
    expect(iso(periodEnd('weekly', 'America/New_York', at('2026-11-01T04:00:00Z')))).toBe('2026-11-08T05:00:00.000Z');
    // Monday-start weeks in Berlin: the week of 19 October 2026 contains the fall-back (169 h).
    const monday = at('2026-10-18T22:00:00Z');
    expect(iso(periodEnd('weekly', 'Europe/Berlin', monday))).toBe('2026-10-25T23:00:00.000Z');
    expect(periodEnd('weekly', 'Europe/Berlin', monday) - monday).toBe(169 * HOUR);
    // the same Monday-start week in UTC, and a week across a year's end
    expect(iso(periodEnd('weekly', 'UTC', at('2026-10-19T00:00:00Z')))).toBe('2026-10-26T00:00:00.000Z');
    expect(iso(periodEnd('weekly', 'Europe/Berlin', at('2026-12-27T23:00:00Z')))).toBe('2027-01-03T23:00:00.000Z');
  });

  it('a month is the calendar month in the zone, 28 to 31 days long', () => {
    expect(iso(periodEnd('monthly', 'Europe/Berlin', at('2026-09-30T22:00:00Z')))).toBe('2026-10-31T23:00:00.000Z');
    expect(iso(periodEnd('monthly', 'Europe/Berlin', at('2027-01-31T23:00:00Z')))).toBe('2027-02-28T23:00:00.000Z');
    expect(iso(periodEnd('monthly', 'Europe/Berlin', at('2028-01-31T23:00:00Z')))).toBe('2028-02-29T23:00:00.000Z');
    expect(iso(periodEnd('monthly', 'America/New_York', at('2026-12-01T05:00:00Z')))).toBe('2027-01-01T05:00:00.000Z');
  });

  it('falls back to UTC for a zone the browser does not know', () => {
    expect(iso(periodEnd('daily', 'Not/AZone', at('2026-11-30T00:00:00Z')))).toBe('2026-12-01T00:00:00.000Z');
  });
});

describe('browserTimeZone', () => {
  it('names a zone Intl accepts', () => {
    expect(() => new Intl.DateTimeFormat('en-US', { timeZone: browserTimeZone() })).not.toThrow();
  });
});
