import { describe, expect, it } from 'vitest';
import { csvFilename, toCsv } from './csv';

describe('toCsv', () => {
  it('writes RFC 4180 with CRLF and quotes where needed', () => {
    expect(
      toCsv(
        ['periodStart', 'views'],
        [
          ['2026-11-01T00:00:00.000Z', 5],
          ['a "b",c', 0],
        ],
      ),
    ).toBe('periodStart,views\r\n2026-11-01T00:00:00.000Z,5\r\n"a ""b"",c",0\r\n');
  });

  it('keeps a cell that looks like a formula as text', () => {
    expect(toCsv(['x'], [['=1+1'], ['-2'], [-2]])).toBe("x\r\n'=1+1\r\n'-2\r\n-2\r\n");
  });

  it('names files after what and when', () => {
    expect(csvFilename('views-daily', '2026-11-01', '2026-11-30')).toBe('page-stats-views-daily-2026-11-01_2026-11-30.csv');
  });
});
