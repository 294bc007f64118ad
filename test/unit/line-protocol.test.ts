import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pointTime, QUARTER_HOUR_MS, toLine } from '../../src/adapters/influx/line-protocol.js';

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

  it('a redelivered event writes the same line', () => {
    const e = { timestamp: Date.parse('2026-11-30T23:59:59.999Z'), region: 'DE', pageName: '/a "b"\n', bot: false, partition: 3, offset: '123456789012' };
    expect(toLine(e, e.pageName)).toBe(toLine({ ...e }, e.pageName));
    expect(toLine(e, e.pageName)).toBe('page_views,partition=3,region=DE offset=123456789012i,t=1796083199999i,page="/a \\"b\\"%0A" 1796082423456789012');
  });
});
