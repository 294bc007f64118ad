import { escape as influxEscape } from '@influxdata/influxdb-client';
import { encodeTag } from '../../src/adapters/influx/line-protocol.js';
import type { LoggedEvent, PageViewEvent } from '../../src/domain/event.js';
import { DAY_MS, REGIONS } from './dataset.js';

/**
 * Issue 12's shape: one day of a site with 150 regions × 5,000 pages, popularity Zipf-like in both
 * (weight of the k-th most popular ∝ 1 / k^skew). With region skew 1.2 and page skew 1.1, 3 M
 * events hold 228 k (region, page) pairs and, on 12 partitions, 636 k schema-1 series — the
 * issue's 227 k and 635 k; 10 M events hold 394 k pairs.
 */
export const ZIPF_SHAPE = { regions: 150, pages: 5_000, regionSkew: 1.2, pageSkew: 1.1, partitions: 12 } as const;

const SECTIONS = ['blog', 'docs', 'products', 'help', 'news', 'careers', 'shop', 'events'];

/** The k-th most popular page: `/`, a few top pages, then paths of a real site, some needing escapes. */
export function zipfPage(k: number): string {
  const top = ['/', '/pricing', '/signup', '/login', '/about', '/contact'];
  if (k < top.length) return top[k]!;
  const section = SECTIONS[k % SECTIONS.length]!;
  if (k % 97 === 0) return `/${section}/ünïcødé-${k}`;
  if (k % 101 === 0) return `/${section}/a b,c=d "${k}"`;
  if (k % 103 === 0) return `/${section}/日本語-${k}`;
  return `/${section}/${(k * 7919).toString(36)}-article-${k}`;
}

export const zipfRegion = (k: number): string => REGIONS[k]!;

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32): the same events on every run. */
export function random(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function cumulative(n: number, skew: number): Float64Array {
  const c = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) c[k] = sum += 1 / (k + 1) ** skew;
  for (let k = 0; k < n; k++) c[k]! /= sum;
  return c;
}

function pick(c: Float64Array, u: number): number {
  let lo = 0;
  let hi = c.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c[mid]! >= u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * `count` events in time order over `spanMs` from `start` (a day by default), each with a region
 * and a page drawn from the Zipf weights. Kept as two small typed arrays.
 */
export class ZipfDay {
  readonly region: Uint8Array;
  readonly page: Uint16Array;
  /** distinct (region, page) pairs among the events */
  readonly pairs: number;

  constructor(
    readonly count: number,
    readonly start: number,
    readonly spanMs = DAY_MS,
    seed = 12,
    /** request ids of these events are requestId(idBase + i) */
    private readonly idBase = 0,
  ) {
    const next = random(seed);
    const regions = cumulative(ZIPF_SHAPE.regions, ZIPF_SHAPE.regionSkew);
    const pages = cumulative(ZIPF_SHAPE.pages, ZIPF_SHAPE.pageSkew);
    this.region = new Uint8Array(count);
    this.page = new Uint16Array(count);
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      this.region[i] = pick(regions, next());
      this.page[i] = pick(pages, next());
      seen.add(this.region[i]! * ZIPF_SHAPE.pages + this.page[i]!);
    }
    this.pairs = seen.size;
  }

  timestamp(i: number): number {
    return this.start + Math.floor((i * this.spanMs) / this.count);
  }

  /** Event i as ingest would hand it to Kafka; with `requestIds`, one tracker request per event. */
  event(i: number, requestIds = false): PageViewEvent {
    const e: PageViewEvent = { timestamp: this.timestamp(i), region: zipfRegion(this.region[i]!), pageName: zipfPage(this.page[i]!), bot: false };
    if (requestIds) {
      e.requestId = requestId(this.idBase + i);
      e.index = 0;
    }
    return e;
  }

  /** As processing logs it: round-robin partitions, offsets counting up per partition. */
  logged(i: number): LoggedEvent {
    return { ...this.event(i), partition: i % ZIPF_SHAPE.partitions, offset: String(Math.floor(i / ZIPF_SHAPE.partitions)) };
  }
}

/** Shaped like ingest's: host (a Kubernetes pod name), process id and start time in base 36, counter. */
export function requestId(n: number): string {
  return `ingest-7d9f8c6b5-x2k4q.1.mipz3k2a.${n.toString(36)}`;
}

const legacyTags = new Map<string, string>();

function legacyTag(value: string): string {
  let escaped = legacyTags.get(value);
  if (escaped === undefined) legacyTags.set(value, (escaped = influxEscape.tag(encodeTag(value))));
  return escaped;
}

/**
 * Schema 1, the line the previous release (2daf3ba) wrote: measurement `page_view`, tags page,
 * partition and region, field offset, time = the event millisecond followed by the last six
 * digits of the offset, in nanoseconds.
 */
export function schema1Line(e: LoggedEvent): string {
  const digits = e.offset.length >= 6 ? e.offset.slice(-6) : e.offset.padStart(6, '0');
  return `page_view,page=${legacyTag(e.pageName)},partition=${e.partition},region=${legacyTag(e.region)} offset=${e.offset}i ${e.timestamp}${digits}`;
}

/** The previous release's consolidation query for one UTC day (its `countQuery`). */
export function schema1CountQuery(dayStart: number): string {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return (
    `SELECT count("offset") FROM "page_view" WHERE time >= '${iso(dayStart)}' AND time < '${iso(dayStart + DAY_MS)}' ` +
    `GROUP BY time(1d), "region", "page" fill(none) tz('UTC')`
  );
}
