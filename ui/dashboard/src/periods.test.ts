import { describe, expect, it } from 'vitest';
import { browserTimeZone, periodEnd } from './periods';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

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

  it('falls back to UTC for a zone the browser does not know', () => {
    expect(iso(periodEnd('daily', 'Not/AZone', at('2026-11-30T00:00:00Z')))).toBe('2026-12-01T00:00:00.000Z');
  });
});

describe('browserTimeZone', () => {
  it('names a zone Intl accepts', () => {
    expect(() => new Intl.DateTimeFormat('en-US', { timeZone: browserTimeZone() })).not.toThrow();
  });
});
