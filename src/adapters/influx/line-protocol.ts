import { escape } from '@influxdata/influxdb-client';
import type { LoggedEvent } from '../../domain/event.js';

/**
 * Tag values. The official client's escaping handles `,`, `=` and spaces, but InfluxDB 1.x
 * cannot store every string in a tag: a backslash before a delimiter escapes it, so a value
 * ending in `\` breaks the line, and `\\` is stored as two characters. So `%`, `\` and control
 * characters are percent-encoded first (always `%` itself, which keeps decoding unambiguous),
 * and everything else — `/pricing`, Unicode, quotes — is stored as it is, readable in Influx.
 */
export function encodeTag(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[%\\\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function decodeTag(stored: string): string {
  return stored.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * Measurements. `page_views` and `bot_views` (schema 2) are tagged by partition and region only,
 * with the page name a field: InfluxDB 1.x keeps every series in memory and pays per series, and
 * a page tag made that region × page × partition (635 k series, 5.8 GB for one day at 150 regions
 * × 5,000 pages). `page_names` holds one point per admitted page name, for the cap across
 * restarts. `page_view` and `bot_view` are schema 1 (page a tag), still read for older data.
 */
export const MEASUREMENT = {
  view: 'page_views',
  bot: 'bot_views',
  pageName: 'page_names',
  legacyView: 'page_view',
  legacyBot: 'bot_view',
} as const;

/** Offsets below 10^6 per millisecond: the sub-millisecond part of the timestamp. */
const SUB_MS = 1_000_000n;

/** Nanosecond timestamp: the millisecond, then the offset's last six digits (offset mod 10^6). */
function nanoseconds(timestamp: number, offset: string): string {
  // Digit strings for the usual case (a positive millisecond, a decimal offset): the same value
  // as the BigInt arithmetic below, without four BigInt allocations per event.
  if (timestamp > 0 && Number.isSafeInteger(timestamp)) {
    return `${timestamp}${offset.length >= 6 ? offset.slice(-6) : offset.padStart(6, '0')}`;
  }
  return String(BigInt(timestamp) * SUB_MS + (BigInt(offset) % SUB_MS));
}

/**
 * Escaped tag values, remembered: a batch repeats the same regions and pages thousands of times,
 * and two regular-expression passes per value were a visible share of processing. Bounded: page
 * names are capped by MAX_PAGE_NAMES, regions by MAX_REGIONS, and the map starts over when full.
 */
const escapedTags = new Map<string, string>();
const MAX_REMEMBERED_TAGS = 50_000;

function tagValue(value: string): string {
  let escaped = escapedTags.get(value);
  if (escaped === undefined) {
    escaped = escape.tag(encodeTag(value));
    if (escapedTags.size >= MAX_REMEMBERED_TAGS) escapedTags.clear();
    escapedTags.set(value, escaped);
  }
  return escaped;
}

/**
 * One event as a line. Its identity is (measurement, partition, region, timestamp) and the
 * timestamp's nanosecond digits are the log offset modulo 10^6: a redelivered event overwrites
 * itself; two events collide only if they share partition, region and millisecond and their
 * offsets differ by a multiple of a million. The page name is a string field, percent-encoded
 * like a tag (so line breaks and backslashes cannot break the line) and then quoted.
 */
export function toLine(e: LoggedEvent, pageName: string, region: string = e.region): string {
  const ns = nanoseconds(e.timestamp, e.offset);
  if (e.bot) return `${MEASUREMENT.bot},partition=${e.partition} offset=${e.offset}i ${ns}`;
  return `${MEASUREMENT.view},partition=${e.partition},region=${tagValue(region)} offset=${e.offset}i,page=${fieldValue(pageName)} ${ns}`;
}

const quotedFields = new Map<string, string>();

function fieldValue(value: string): string {
  let quoted = quotedFields.get(value);
  if (quoted === undefined) {
    quoted = `"${encodeTag(value).replace(/"/g, '\\"')}"`;
    if (quotedFields.size >= MAX_REMEMBERED_TAGS) quotedFields.clear();
    quotedFields.set(value, quoted);
  }
  return quoted;
}

/** The point that records an admitted page name (a tag: one series per name, at most MAX_PAGE_NAMES). */
export function pageNameLine(pageName: string, at: number): string {
  return `${MEASUREMENT.pageName},page=${tagValue(pageName)} seen=1i ${at}000000`;
}

/** An InfluxQL string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An InfluxQL identifier. */
export function quoteIdent(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
