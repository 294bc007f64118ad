import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { offsetOf, pointTime, QUARTER_HOUR_MS, toLine } from '../../src/adapters/influx/line-protocol.js';

const quarterNs = (t: number): bigint => BigInt(Math.floor(t / QUARTER_HOUR_MS) * QUARTER_HOUR_MS) * 1_000_000n;

describe('InfluxDB point identity', () => {
  it('is the event quarter hour plus the offset: inside the quarter, and distinct for distinct offsets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Date.UTC(9999, 0, 1) }),
        fc.bigInt({ min: 0n, max: 899_999_999_999n }),
        fc.bigInt({ min: 0n, max: 899_999_999_999n }),
        (t, a, b) => {
          const ta = BigInt(pointTime(t, String(a)));
          expect(ta).toBe(quarterNs(t) + a);
          expect(ta - quarterNs(t)).toBeLessThan(900_000_000_000n);
          if (a !== b) expect(pointTime(t, String(b))).not.toBe(pointTime(t, String(a)));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('gives its offset back from the time as InfluxDB prints it (RFC 3339, trailing zeros of the fraction dropped)', () => {
    // InfluxDB 1.x formats times with Go's RFC3339Nano: `…:07.00012Z`, `…:07Z` when the fraction is 0.
    const rfc3339 = (ns: bigint): string => {
      const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
      const fraction = String(ns % 1_000_000_000n)
        .padStart(9, '0')
        .replace(/0+$/, '');
      return `${seconds}${fraction === '' ? '' : `.${fraction}`}Z`;
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }), fc.bigInt({ min: 0n, max: 899_999_999_999n }), (t, offset) => {
        expect(offsetOf(rfc3339(BigInt(pointTime(t, String(offset)))))).toBe(Number(offset));
      }),
      { numRuns: 5_000 },
    );
    expect(offsetOf('2026-12-07T19:29:59.999999999Z')).toBe(899_999_999_999);
    expect(offsetOf('2026-12-07T19:30:00Z')).toBe(0);
    expect(offsetOf('2026-12-07T19:45:00.5Z')).toBe(500_000_000);
  });

  it('a redelivered event writes the same line', () => {
    const e = { timestamp: Date.parse('2026-11-30T23:59:59.999Z'), region: 'DE', pageName: '/a "b"\n', bot: false, partition: 3, offset: '123456789012' };
    expect(toLine(e, e.pageName)).toBe(toLine({ ...e }, e.pageName));
    expect(toLine(e, e.pageName)).toBe('page_views,partition=3,region=DE t=1796083199999i,page="/a \\"b\\"%0A" 1796082423456789012');
  });
});
