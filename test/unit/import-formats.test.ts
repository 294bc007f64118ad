import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressed, identify } from '../../src/services/import/content.js';
import { type ImportFormat, type ParsedLine, parseContent } from '../../src/services/import/formats.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

/** The content in chunks of `size` bytes, so headers and lines are cut at every place. */
async function* chunks(content: string | Buffer, size = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(content);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(content: string | Buffer, options: { timeZone?: string } = {}): Promise<{ format: ImportFormat | undefined; lines: ParsedLine[] }> {
  let format: ImportFormat | undefined;
  const lines: ParsedLine[] = [];
  const ctx = { timeZone: options.timeZone ?? 'UTC', now: NOW };
  for await (const l of parseContent(decompressed(chunks(content)), ctx, (f) => (format = f))) lines.push(l);
  return { format, lines };
}

describe('import formats', () => {
  it('events CSV: quoted cells, CRLF, a BOM, columns in any order, epoch and ISO times in quarter-hour buckets', async () => {
    const { format, lines } = await read('\uFEFFpageName,Timestamp,region\r\n"/a,b ""c""",2026-01-01T00:14:59.999Z,de\r\n/x,1767226500000,\r\n');
    expect(format).toBe('events-csv');
    expect(lines).toEqual([
      { line: 2, count: { bucket: Date.parse('2026-01-01T00:00:00Z'), region: 'DE', pageName: '/a,b "c"', views: 1 } },
      { line: 3, count: { bucket: Date.parse('2026-01-01T00:15:00Z'), region: 'unknown', pageName: '/x', views: 1 } },
    ]);
  });

  it('daily counts: dates at local midnight in REPORT_TIMEZONE; 0 views read but not counted', async () => {
    const { format, lines } = await read('date,region,pageName,views\n2026-03-29,DE,/,12\n2026-03-30,FR,/p,0\n', { timeZone: 'Europe/Berlin' });
    expect(format).toBe('daily-csv');
    expect(lines).toEqual([
      { line: 2, count: { bucket: Date.parse('2026-03-28T23:00:00Z'), region: 'DE', pageName: '/', views: 12 } },
      { line: 3, count: undefined },
    ]);
  });

  it('NDJSON events, blank lines skipped, numbers as timestamps', async () => {
    const { format, lines } = await read(
      '{"timestamp":1767225600000,"region":"us","pageName":"/?q=1"}\n\n{"timestamp":"2026-01-01T00:00:00Z","pageName":"/日本"}',
    );
    expect(format).toBe('events-ndjson');
    expect(lines.map((l) => ('count' in l ? [l.line, l.count?.region, l.count?.pageName] : l))).toEqual([
      [1, 'US', '/'],
      [3, 'unknown', '/日本'],
    ]);
  });

  it('bad lines carry their line number and every problem', async () => {
    const { lines } = await read('date,region,pageName,views\n2026-02-30,DE,/,1\n2026-01-01,D E,,x\n2027-01-01,DE,/,1\n2026-01-01,DE,/\n2026-01-01,DE,/,1\n');
    expect(lines).toEqual([
      { line: 2, problems: ['date: expected a date YYYY-MM-DD, got "2026-02-30"'] },
      {
        line: 3,
        problems: [
          'views: expected a whole number from 0 to 1000000000000, got "x"',
          'region: expected 1–32 characters of A–Z, a–z, 0–9, "_" or "-"',
          'pageName: must not be empty (after removing the query string and fragment)',
        ],
      },
      { line: 4, problems: ['date: in the future'] },
      { line: 5, problems: ['expected 4 columns (date,region,pageName,views), got 3'] },
      { line: 6, count: expect.objectContaining({ views: 1 }) },
    ]);
    const future = await read('timestamp,region,pageName\n2026-06-01T12:06:00Z,DE,/\n');
    expect(future.lines).toEqual([{ line: 2, problems: ['timestamp: more than 5 minutes in the future'] }]);
  });

  it('a line the CSV parser cannot read refuses the file with its line number (even with --skip-bad: the records after it are unknown)', async () => {
    await expect(read('timestamp,region,pageName\n2026-01-01T00:00:00Z,DE,/\n2026-01-01T00:00:00Z,DE,"/open\n')).rejects.toThrow(
      /^line 3: not readable as CSV/,
    );
    await expect(read('timestamp,region,pageName\n2026-01-01T00:00:00Z,DE,"/a"b\n2026-01-01T00:00:00Z,DE,/ok\n')).rejects.toThrow(
      /^line 2: not readable as CSV/,
    );
  });

  it('another header is refused with the shapes it expected; an empty file too', async () => {
    await expect(read('time,country,url\n1,DE,/\n')).rejects.toMatchObject({
      message: 'unrecognised header "time,country,url"',
      details: [expect.stringContaining('"timestamp,region,pageName"')],
    });
    await expect(read('')).rejects.toThrow('the file is empty');
  });

  it('gzip is recognised by its bytes, and its identity is that of the content', async () => {
    const text = 'timestamp,region,pageName\n2026-01-01T00:00:00Z,DE,/\n';
    const gz = await read(gzipSync(text));
    expect(gz.lines).toEqual((await read(text)).lines);
    const plain = await identify(() => chunks(text));
    const packed = await identify(() => chunks(gzipSync(text)));
    expect(packed).toMatchObject({ sha256: plain.sha256, gzip: true });
    expect(plain.gzip).toBe(false);
    await expect(identify(() => chunks(Buffer.concat([gzipSync(text).subarray(0, 20)])))).rejects.toThrow('the file is not valid gzip');
  });
});
