import { escape as influxEscape } from '@influxdata/influxdb-client';
import type { LoggedEvent } from '../../domain/event.js';

/**
 * Tag values. The official client's escaping handles `,`, `=` and spaces, but InfluxDB 1.x
 * cannot store every string in a tag: a backslash before a delimiter escapes it, so a value
 * ending in `\` breaks the line, and `\\` is stored as two characters. So `%`, `\` and control
 * characters are percent-encoded first (always `%` itself, which keeps decoding unambiguous),
 * and everything else — `/pricing`, Unicode, quotes — is stored as it is, readable in Influx.
 */
export function encodeTag(value: string): string {
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

/** Every time zone's midnight is on a UTC quarter hour, so a quarter hour lies in one local day. */
export const QUARTER_HOUR_MS = 900_000;
/** Nanoseconds in a quarter hour: the room for offsets inside one point time. */
const QUARTER_HOUR_NS = 900_000_000_000;

/**
 * A point's time: the start of the event's UTC quarter hour plus the log offset in nanoseconds.
 * A point's identity is (measurement, partition, region, time), so a redelivered event overwrites
 * itself, and two events of one partition never collide: their offsets differ, and a partition
 * would need 900 billion messages before an offset wraps (about 300 years at 100 M a day on
 * 12 partitions). The event's own millisecond is the field `t`; local days and minutes come from it.
 */
export function pointTime(timestamp: number, offset: string): string {
  const quarterSeconds = Math.floor(timestamp / QUARTER_HOUR_MS) * (QUARTER_HOUR_MS / 1000);
  const n = Number(offset);
  const within = Number.isSafeInteger(n) && n >= 0 && n < QUARTER_HOUR_NS ? n : Number(BigInt(offset) % BigInt(QUARTER_HOUR_NS));
  // quarterSeconds × 10^9 + within, without BigInt: whole seconds, then nine digits of nanoseconds
  return `${quarterSeconds + Math.floor(within / 1e9)}${String(within % 1e9).padStart(9, '0')}`;
}

/**
 * Escaped tag values, remembered: a batch repeats the same regions and pages thousands of times,
 * and two regular-expression passes per value were a visible share of processing. Bounded: page
 * names are capped by MAX_PAGE_NAMES, regions by MAX_REGIONS, and the map starts over when full.
 */
const escapedTags = new Map<string, string>();
const MAX_REMEMBERED_TAGS = 50_000;

export function tagValue(value: string): string {
  let escaped = escapedTags.get(value);
  if (escaped === undefined) {
    escaped = influxEscape.tag(encodeTag(value));
    if (escapedTags.size >= MAX_REMEMBERED_TAGS) escapedTags.clear();
    escapedTags.set(value, escaped);
  }
  return escaped;
}

/**
 * One event as a line: series (partition, region), the time from pointTime, fields `t` (the
 * event's epoch millisecond) and `page`. The page name is a string field, percent-encoded like a
 * tag (so line breaks and backslashes cannot break the line), then quoted. The offset is not a
 * field of its own: it is in the point's time (offsetOf reads it back), and InfluxDB's cost
 * follows the fields of a point (a third less CPU per point with two fields than with three).
 * Bot points keep an `offset` field: they are counted by InfluxQL, whose cut compares it.
 */
export function toLine(e: LoggedEvent, pageName: string, region: string = e.region): string {
  const time = pointTime(e.timestamp, e.offset);
  if (e.bot) return `${MEASUREMENT.bot},partition=${e.partition} offset=${e.offset}i,t=${e.timestamp}i ${time}`;
  return `${MEASUREMENT.view},partition=${e.partition},region=${tagValue(region)} t=${e.timestamp}i,page=${fieldValue(pageName)} ${time}`;
}

/**
 * The log offset a point's time holds (see pointTime), from the time as InfluxDB answers it
 * without `epoch` (RFC 3339 with up to nine digits of fraction, `2026-12-07T19:15:07.000123456Z`):
 * the seconds since the quarter hour began, then the fraction. Exact for offsets below 9 × 10^11.
 */
export function offsetOf(rfc3339: string): number {
  const minute = (rfc3339.charCodeAt(14) - 48) * 10 + (rfc3339.charCodeAt(15) - 48);
  const second = (rfc3339.charCodeAt(17) - 48) * 10 + (rfc3339.charCodeAt(18) - 48);
  let nanos = 0;
  if (rfc3339.charCodeAt(19) === 46 /* . */) {
    let digits = 0;
    for (let i = 20; i < rfc3339.length && digits < 9; i++, digits++) {
      const d = rfc3339.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      nanos = nanos * 10 + d;
    }
    nanos *= 10 ** (9 - digits);
  }
  return ((minute % 15) * 60 + second) * 1e9 + nanos;
}

const quotedFields = new Map<string, string>();

export function fieldValue(value: string): string {
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
