import { type CsvError, parse } from 'csv-parse';
import { invalidInput } from '../../domain/errors.js';
import { normalisePageName, normaliseRegion, normaliseTimestamp, UNKNOWN_REGION } from '../../domain/event.js';
import { localDate, parseLocalDate } from '../../domain/periods.js';
import type { ImportedCount, ImportKind } from '../../ports/rollup-store.js';

export type ImportFormat = 'events-csv' | 'events-ndjson' | 'daily-csv';

export const KIND: Record<ImportFormat, ImportKind> = { 'events-csv': 'events', 'events-ndjson': 'events', 'daily-csv': 'daily' };

export const EXPECTED_SHAPES =
  'expected a CSV header "timestamp,region,pageName" (events), a CSV header "date,region,pageName,views" (daily counts), ' +
  'or NDJSON: one {"timestamp", "region", "pageName"} object per line (events)';

const COLUMNS: Record<'events-csv' | 'daily-csv', readonly string[]> = {
  'events-csv': ['timestamp', 'region', 'pagename'],
  'daily-csv': ['date', 'region', 'pagename', 'views'],
};

const HEADER: Record<'events-csv' | 'daily-csv', string> = { 'events-csv': 'timestamp,region,pageName', 'daily-csv': 'date,region,pageName,views' };

/** Every zone's offset from UTC is a whole number of quarter hours: each bucket lies in one local day. */
export const BUCKET_MS = 15 * 60_000;
/** The most views one daily-count line may carry: exact as a double, and far beyond any site. */
const MAX_DAILY_VIEWS = 1e12;
/** Days a file may hold: the years the consolidator can compute. */
const FIRST_YEAR = 1970;
const LAST_YEAR = 9998;

export interface LineContext {
  timeZone: string;
  now: number;
}

/** One data line: its count (undefined for a daily line of 0 views), or why it is refused. */
export type ParsedLine = { line: number; count: ImportedCount | undefined } | { line: number; problems: string[] };

/**
 * The data lines of a file's decompressed content, in order, with their line numbers (the header
 * is line 1). The format comes from the first line; any other shape refuses the whole file.
 */
export async function* parseContent(content: AsyncIterable<Buffer>, ctx: LineContext, onFormat: (f: ImportFormat) => void): AsyncGenerator<ParsedLine> {
  const { head, rest } = await peek(content);
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*\{/.test(text)) {
    onFormat('events-ndjson');
    yield* ndjsonLines(rest, ctx);
    return;
  }
  yield* csvLines(rest, ctx, onFormat);
}

/** The first chunk(s) up to a line break (or 64 KiB), and the whole content again. */
async function peek(content: AsyncIterable<Buffer>): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = content[Symbol.asyncIterator]();
  const taken: Buffer[] = [];
  let size = 0;
  while (size < 65_536) {
    const next = await iterator.next();
    if (next.done) break;
    taken.push(next.value);
    size += next.value.length;
    if (next.value.includes(0x0a)) break;
  }
  const head = Buffer.concat(taken);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head, rest: rest() };
}

async function* csvLines(content: AsyncIterable<Buffer>, ctx: LineContext, onFormat: (f: ImportFormat) => void): AsyncGenerator<ParsedLine> {
  // A line the parser cannot read (a quote never closed) refuses the file even with --skip-bad:
  // after one, the parser no longer knows where the following records start.
  const parser = parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true });
  const feed = (async () => {
    try {
      for await (const chunk of content) if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', resolve));
      parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  let format: 'events-csv' | 'daily-csv' | undefined;
  let index: number[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (format === undefined) {
        ({ format, index } = csvHeader(record));
        onFormat(format);
        continue;
      }
      const cells = index.map((i) => record[i] ?? '');
      if (record.length !== index.length) {
        yield { line: info.lines, problems: [`expected ${index.length} columns (${HEADER[format]}), got ${record.length}`] };
      } else yield { line: info.lines, ...(format === 'events-csv' ? eventLine(cells, ctx) : dailyLine(cells, ctx)) };
    }
  } catch (err) {
    const e = err as CsvError;
    if (e.code !== undefined && typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw invalidInput(`line ${e.lines ?? '?'}: not readable as CSV`, [e.message]);
    }
    throw err;
  }
  await feed;
  if (format === undefined) throw invalidInput('the file is empty', [EXPECTED_SHAPES]);
}

function csvHeader(record: readonly string[]): { format: 'events-csv' | 'daily-csv'; index: number[] } {
  const names = record.map((c) => c.trim().toLowerCase());
  for (const format of ['events-csv', 'daily-csv'] as const) {
    const wanted = COLUMNS[format];
    if (names.length === wanted.length && wanted.every((w) => names.includes(w))) return { format, index: wanted.map((w) => names.indexOf(w)) };
  }
  throw invalidInput(`unrecognised header "${record.join(',').slice(0, 200)}"`, [EXPECTED_SHAPES]);
}

async function* ndjsonLines(content: AsyncIterable<Buffer>, ctx: LineContext): AsyncGenerator<ParsedLine> {
  const decoder = new TextDecoder('utf-8');
  let buffered = '';
  let line = 0;
  const one = (text: string): ParsedLine | undefined => {
    line += 1;
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { line, problems: ['not a JSON object'] };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { line, problems: ['not a JSON object'] };
    const o = value as Record<string, unknown>;
    const cell = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
    const bad = (['timestamp', 'region', 'pageName'] as const).filter((k) => o[k] !== undefined && cell(o[k]) === undefined);
    if (bad.length > 0) return { line, problems: bad.map((k) => `${k}: expected a string${k === 'timestamp' ? ' or a number' : ''}`) };
    return { line, ...eventLine([cell(o.timestamp) ?? '', cell(o.region) ?? '', cell(o.pageName) ?? ''], ctx) };
  };
  for await (const chunk of content) {
    buffered += decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n', from)) {
      const parsed = one(buffered.slice(from, at));
      if (parsed !== undefined) yield parsed;
      from = at + 1;
    }
    buffered = buffered.slice(from);
  }
  buffered += decoder.decode();
  if (buffered !== '') {
    const parsed = one(buffered);
    if (parsed !== undefined) yield parsed;
  }
}

type LineResult = { count: ImportedCount | undefined } | { problems: string[] };

/** An event line, validated as ingest validates an event, but without the late-arrival window. */
function eventLine([timestamp, region, pageName]: string[], ctx: LineContext): LineResult {
  const problems: string[] = [];
  let ms: number | undefined;
  if ((timestamp ?? '').trim() === '') problems.push('timestamp: required');
  else {
    // History is what imports are for: only the future is refused, as ingest refuses it.
    const t = normaliseTimestamp(timestamp, { now: ctx.now, lateArrivalWindowMs: ctx.now });
    if (t.ok) ms = t.value;
    else problems.push(...t.problems);
  }
  const r = regionOf(region ?? '');
  const p = normalisePageName(pageName ?? '');
  if (!r.ok) problems.push(...r.problems);
  if (!p.ok) problems.push(...p.problems);
  if (problems.length > 0 || ms === undefined || !r.ok || !p.ok) return { problems };
  return { count: { bucket: Math.floor(ms / BUCKET_MS) * BUCKET_MS, region: r.value, pageName: p.value, views: 1 } };
}

/** A daily-count line: the date is a day in REPORT_TIMEZONE, stored at its local midnight. */
function dailyLine([date, region, pageName, views]: string[], ctx: LineContext): LineResult {
  const problems: string[] = [];
  const day = parseLocalDate((date ?? '').trim(), ctx.timeZone);
  if (day === undefined) problems.push(`date: expected a date YYYY-MM-DD, got "${(date ?? '').slice(0, 40)}"`);
  else if (day.year < FIRST_YEAR || day.year > LAST_YEAR) problems.push(`date: must be a day in the years ${FIRST_YEAR} to ${LAST_YEAR}`);
  else if ((day.toISODate() ?? '') > localDate(ctx.now, ctx.timeZone)) problems.push('date: in the future');
  const v = (views ?? '').trim();
  const n = /^\d{1,13}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n <= MAX_DAILY_VIEWS)) problems.push(`views: expected a whole number from 0 to ${MAX_DAILY_VIEWS}, got "${v.slice(0, 40)}"`);
  const r = regionOf(region ?? '');
  const p = normalisePageName(pageName ?? '');
  if (!r.ok) problems.push(...r.problems);
  if (!p.ok) problems.push(...p.problems);
  if (problems.length > 0 || day === undefined || !r.ok || !p.ok) return { problems };
  return { count: n === 0 ? undefined : { bucket: day.toMillis(), region: r.value, pageName: p.value, views: n } };
}

/** An empty region is `unknown`, as ingest stores an event whose region it cannot tell. */
function regionOf(raw: string): { ok: true; value: string } | { ok: false; problems: string[] } {
  return raw.trim() === '' ? { ok: true, value: UNKNOWN_REGION } : normaliseRegion(raw.trim());
}
