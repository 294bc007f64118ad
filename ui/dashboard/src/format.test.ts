import { describe, expect, it } from 'vitest';
import { formatZonedRange, percentChange, regionName } from './format';

describe('format', () => {
  it('percent change, or null with nothing to compare with', () => {
    expect(percentChange(150, 100)).toBe(50);
    expect(percentChange(50, 100)).toBe(-50);
    expect(percentChange(5, 0)).toBeNull();
  });

  it('region names', () => {
    expect(regionName('unknown')).toBe('Unknown');
    expect(regionName('DE')).not.toBe('DE');
    expect(regionName('DE-BY')).toBe(`${regionName('DE')} (BY)`);
    expect(regionName('(other)')).toBe('(other)');
  });

  it('a range the server echoes is shown as days of its zone', () => {
    const days = (timeZone: string) => new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone });
    // October 2026 in Berlin: 30 Sep 22:00 UTC to 31 Oct 23:00 UTC.
    const berlin = formatZonedRange('2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z', 'Europe/Berlin');
    expect(berlin).toBe(days('Europe/Berlin').formatRange(Date.UTC(2026, 9, 1, 12), Date.UTC(2026, 9, 31, 12)));
    // One day is one date.
    expect(formatZonedRange('2026-11-05T00:00:00.000Z', '2026-11-06T00:00:00.000Z', 'UTC')).toBe(days('UTC').format(Date.UTC(2026, 10, 5)));
    expect(formatZonedRange('nope', '2026-11-06T00:00:00.000Z', 'UTC')).toBe('');
  });
});
