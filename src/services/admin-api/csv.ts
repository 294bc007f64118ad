import { Readable } from 'node:stream';

/**
 * A CSV cell. Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
 * get a leading `'`, so an exported page name cannot execute in Excel or Sheets; then RFC 4180 quoting.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const csvLine = (cells: ReadonlyArray<string | number>): string => `${cells.map(csvCell).join(',')}\r\n`;

export type StreamFormat = 'csv' | 'ndjson';

export const CONTENT_TYPE: Record<StreamFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/**
 * Streams pages of rows as they are read, one page in memory at a time: the store is asked for
 * the next page only when the socket has taken the previous one (Readable.from's backpressure).
 * The CSV header leaves with the first page, so a store that is down fails the request before
 * anything is sent (a 503, not a cut 200).
 */
export function streamPages<T>(
  pages: AsyncIterable<readonly T[]>,
  format: StreamFormat,
  header: readonly string[],
  cells: (row: T) => ReadonlyArray<string | number>,
  json: (row: T) => unknown,
): Readable {
  async function* lines(): AsyncGenerator<string> {
    let head = format === 'csv' ? csvLine(header) : '';
    for await (const page of pages) {
      let chunk = head;
      head = '';
      for (const row of page) chunk += format === 'csv' ? csvLine(cells(row)) : `${JSON.stringify(json(row))}\n`;
      if (chunk !== '') yield chunk;
    }
    if (head !== '') yield head;
  }
  return Readable.from(lines());
}
