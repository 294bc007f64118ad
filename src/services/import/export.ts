import { invalidInput } from '../../domain/errors.js';
import { dayWindow, localDate, parseLocalDate } from '../../domain/periods.js';
import type { RollupStore } from '../../ports/rollup-store.js';

const PAGE_ROWS = 10_000;
export const DAILY_HEADER = 'date,region,pageName,views\n';

/**
 * A CSV cell, quoted per RFC 4180 when it must be. Unlike the API's CSV, a page name that starts
 * with `=` or `+` is left as it is: the export is read back by `page-stats import`, byte-exact.
 */
function cell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The local days from..to (YYYY-MM-DD in `timeZone`), validated. */
export function exportRange(from: string | undefined, to: string | undefined, timeZone: string): { start: number; end: number } {
  const f = from === undefined ? undefined : parseLocalDate(from, timeZone);
  const t = to === undefined ? undefined : parseLocalDate(to, timeZone);
  const problems: string[] = [];
  if (f === undefined) problems.push(`from: expected a date YYYY-MM-DD, got "${from ?? ''}"`);
  if (t === undefined) problems.push(`to: expected a date YYYY-MM-DD, got "${to ?? ''}"`);
  if (f !== undefined && t !== undefined && t < f) problems.push('to: must not be before from');
  if (f === undefined || t === undefined || problems.length > 0) throw invalidInput('invalid export range', problems);
  return dayWindow(f, t);
}

/**
 * The daily counts of [start, end) in the daily-count import format (`date,region,pageName,views`,
 * dates in `timeZone`), read a page at a time in key order: memory stays flat for any range.
 */
export async function* dailyCountLines(rollups: Pick<RollupStore, 'query'>, range: { start: number; end: number }, timeZone: string): AsyncGenerator<string> {
  yield DAILY_HEADER;
  let after: { periodStart: number; region: string; pageName: string } | undefined;
  for (;;) {
    const rows = await rollups.query({ granularity: 'daily', start: range.start, end: range.end, limit: PAGE_ROWS, after });
    let text = '';
    for (const r of rows) text += `${localDate(r.periodStart, timeZone)},${cell(r.region)},${cell(r.pageName)},${r.views}\n`;
    if (text !== '') yield text;
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE_ROWS) return;
    after = { periodStart: last.periodStart, region: last.region, pageName: last.pageName };
  }
}
