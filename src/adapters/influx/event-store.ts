import { DateTime } from 'luxon';
import type { LoggedEvent } from '../../domain/event.js';
import type { DailyBotCount, DailyCount, EventStore, LogPosition, RecentCount, StoredNames } from '../../ports/event-store.js';
import { CappedNames, OVERFLOW_NAME, type CardinalityLimits } from '../cardinality.js';
import { InfluxHttp, type InfluxSeries } from './client.js';
import { decodeTag, MEASUREMENT, offsetOf, pageNameLine, QUARTER_HOUR_MS, quoteIdent, quoteString, toLine } from './line-protocol.js';

export interface InfluxOptions extends CardinalityLimits {
  url: string;
  db: string;
  token: string | undefined;
  /** InfluxDB 1.x with auth-enabled: a user with read and write access to `db` (ALL PRIVILEGES to create it) */
  username?: string | undefined;
  password?: string | undefined;
  /** `INF` or an InfluxQL duration such as `400d` */
  retention: string;
  /** lines per /write request */
  linesPerWrite?: number;
}

export const OVERFLOW_PAGE = OVERFLOW_NAME;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The time-series store on InfluxDB (`page_view_bucket`): one point per event, in series of
 * partition × region (see MEASUREMENT for why the page name is a field). It is the source of
 * truth the consolidator recomputes from; day-to-day consolidation folds what processing recorded.
 */
export class InfluxEventStore implements EventStore {
  private readonly http: InfluxHttp;
  private readonly pages: CappedNames;
  private readonly regions: CappedNames;
  private readonly linesPerWrite: number;
  private initialised: Promise<void> | undefined;

  private constructor(private readonly options: InfluxOptions) {
    this.http = new InfluxHttp(
      options.url,
      options.username !== undefined && options.password !== undefined ? { username: options.username, password: options.password } : options.token,
    );
    this.pages = new CappedNames(options.maxPageNames);
    this.regions = new CappedNames(options.maxRegions);
    this.linesPerWrite = options.linesPerWrite ?? 5_000;
  }

  /**
   * Opening never fails on an unreachable InfluxDB: the store initialises on first use and
   * tries again on the next call, so a process can start (and report not ready) during an outage.
   */
  static async open(options: InfluxOptions): Promise<InfluxEventStore> {
    const store = new InfluxEventStore(options);
    await store.init().catch(() => {});
    return store;
  }

  private init(): Promise<void> {
    this.initialised ??= this.createDatabase().then(async () => await this.loadKnownNames());
    this.initialised.catch(() => {
      this.initialised = undefined;
    });
    return this.initialised;
  }

  /** Creates the database and sets its retention (InfluxDB 1.x; on 2.x/3.x the bucket must exist). */
  private async createDatabase(): Promise<void> {
    if (!(await this.http.ping())) throw new Error(`InfluxDB at ${this.options.url} is unreachable`);
    const db = quoteIdent(this.options.db);
    try {
      await this.http.query(undefined, `CREATE DATABASE ${db}`, 'POST');
      await this.http.query(undefined, `ALTER RETENTION POLICY "autogen" ON ${db} DURATION ${this.options.retention}`, 'POST');
    } catch {
      // 2.x/3.x manage buckets themselves; a missing bucket shows in the first write.
    }
  }

  private async loadKnownNames(): Promise<void> {
    const sources = [
      [MEASUREMENT.pageName, 'page', this.pages],
      [MEASUREMENT.legacyView, 'page', this.pages],
      [MEASUREMENT.view, 'region', this.regions],
      [MEASUREMENT.legacyView, 'region', this.regions],
    ] as const;
    for (const [measurement, key, names] of sources) {
      const series = await this.http.query(this.options.db, `SHOW TAG VALUES FROM ${quoteIdent(measurement)} WITH KEY = ${quoteIdent(key)}`);
      for (const s of series) {
        for (const row of s.values) {
          const name = decodeTag(String(row[1]));
          // `(other)` is where overflow goes, not a name that takes a place under the cap
          if (name !== OVERFLOW_NAME) names.remember(name);
        }
      }
    }
  }

  /**
   * Distinct page names and regions are capped (MAX_PAGE_NAMES / MAX_REGIONS): new ones past the
   * cap count as `(other)`, so a crawler inventing URLs cannot grow the rollups without bound.
   * A newly admitted page name is recorded in `page_names` with the batch.
   */
  async write(events: readonly LoggedEvent[]): Promise<StoredNames[]> {
    await this.init();
    const now = Date.now();
    const admitted: string[] = [];
    const stored = events.map((e) => {
      const page = this.pages.admit(e.pageName);
      if (page.isNew) admitted.push(page.name);
      return { region: this.regions.admit(e.region).name, pageName: page.name };
    });
    const names = admitted.map((name) => pageNameLine(name, now));
    for (let i = 0; i < events.length; i += this.linesPerWrite) {
      const lines: string[] = i === 0 ? names : [];
      for (let j = i; j < Math.min(events.length, i + this.linesPerWrite); j++) {
        lines.push(toLine(events[j]!, stored[j]!.pageName, stored[j]!.region));
      }
      await this.http.write(this.options.db, lines);
    }
    return stored;
  }

  /**
   * Page names are a field, which InfluxQL cannot group by: the points are read (point time, event
   * time and page name) and counted here. Point times are quarter hours (see pointTime), so a read of one
   * quarter hour is exactly its events; a few quarters are read at once, each answer parsed as
   * it streams, and a failed quarter is read again. Memory follows the distinct (day, region,
   * page) keys, not the points. Older data (schema 1, page a tag) is still counted by InfluxQL.
   */
  async dailyCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyCount[]> {
    await this.init();
    const days = dayStarts(from, to, timeZone);
    const counts = new Map<string, number>();
    const add = (day: number, region: string, page: string, n: number) => {
      const key = `${day}\u0000${region}\u0000${page}`;
      counts.set(key, (counts.get(key) ?? 0) + n);
    };
    // Only the quarter hours of hours that hold points are read: a recompute of a long, sparse range
    // (a backfill over years) would otherwise ask for tens of thousands of empty quarter hours.
    const busy = await this.hoursWithPoints(from, to);
    const toRead = quarters(from, to).filter(([a]) => busy.has(Math.floor(a / HOUR_MS)));
    // The cut (events of a listed partition at or below its position) is applied here: the offset
    // is in the point's time, read as RFC 3339 to keep its nanoseconds.
    const through = upTo === undefined ? undefined : new Map(upTo.map((c) => [String(c.partition), Number(c.through)]));
    await inParallel(toRead, READ_CONCURRENCY, async ([a, b]) => {
      const q = `SELECT "t", "page" FROM ${quoteIdent(MEASUREMENT.view)} WHERE ${timeRange(quarterFloor(a), quarterCeil(b))} GROUP BY "partition", "region"`;
      // Counted apart, then added: a quarter read again after a failure must not count twice.
      const quarter = new Map<string, number>();
      await withRetries(async () => {
        quarter.clear();
        await this.http.queryEach(
          this.options.db,
          q,
          (s) => {
            const region = decodeTag(s.tags?.region ?? '');
            const last = through?.get(s.tags?.partition ?? '');
            for (const v of s.values) {
              const t = Number(v[1]);
              if (t < a || t >= b) continue;
              if (last !== undefined && offsetOf(String(v[0])) > last) continue;
              const key = `${dayOf(days, t)}\u0000${region}\u0000${decodeTag(String(v[2]))}`;
              quarter.set(key, (quarter.get(key) ?? 0) + 1);
            }
          },
          READ_IDLE_MS,
          'rfc3339',
        );
      });
      for (const [key, n] of quarter) counts.set(key, (counts.get(key) ?? 0) + n);
    });
    const legacy = await this.http.query(this.options.db, countQuery(MEASUREMENT.legacyView, from, to, timeZone, ', "region", "page"', upTo));
    for (const s of legacy) {
      for (const [t, n] of rows(s)) add(t, decodeTag(s.tags?.region ?? ''), decodeTag(s.tags?.page ?? ''), n);
    }
    return [...counts].map(([key, views]) => {
      const [day, region, pageName] = key.split('\u0000') as [string, string, string];
      return { dayStart: Number(day), region, pageName, views };
    });
  }

  /** The UTC hours (epoch ms / 1 h) of [from, to) in which `page_views` has points, counted by InfluxDB. */
  private async hoursWithPoints(from: number, to: number): Promise<Set<number>> {
    const q = `SELECT count("t") FROM ${quoteIdent(MEASUREMENT.view)} WHERE ${timeRange(quarterFloor(from), quarterCeil(to))} GROUP BY time(1h) fill(none)`;
    const hours = new Set<number>();
    // a dense day is millions of points to count: the reads' idle limit, not the client's 10 s for a whole answer
    await withRetries(async () => {
      hours.clear();
      await this.http.queryEach(
        this.options.db,
        q,
        (s) => {
          for (const [t] of rows(s)) hours.add(Math.floor(t / HOUR_MS));
        },
        READ_IDLE_MS,
      );
    });
    return hours;
  }

  async dailyBotCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyBotCount[]> {
    await this.init();
    const hits = new Map<number, number>();
    for (const measurement of [MEASUREMENT.bot, MEASUREMENT.legacyBot]) {
      for (const s of await this.http.query(this.options.db, countQuery(measurement, from, to, timeZone, '', upTo))) {
        for (const [t, n] of rows(s)) hits.set(t, (hits.get(t) ?? 0) + n);
      }
    }
    return [...hits].sort((a, b) => a[0] - b[0]).map(([dayStart, n]) => ({ dayStart, hits: n }));
  }

  async recentCounts(from: number): Promise<RecentCount[]> {
    await this.init();
    const counts = new Map<string, number>();
    const add = (minute: number, region: string, page: string, n: number) => {
      const key = `${minute}\u0000${region}\u0000${page}`;
      counts.set(key, (counts.get(key) ?? 0) + n);
    };
    const recent = `SELECT "t", "page" FROM ${quoteIdent(MEASUREMENT.view)} WHERE time >= ${quoteString(iso(quarterFloor(from)))} GROUP BY "region"`;
    await this.http.queryEach(this.options.db, recent, (s) => {
      const region = decodeTag(s.tags?.region ?? '');
      for (const v of s.values) {
        const t = Number(v[1]);
        if (t >= from) add(Math.floor(t / 60_000) * 60_000, region, decodeTag(String(v[2])), 1);
      }
    });
    const since = `time >= ${quoteString(iso(from))}`;
    const legacy = `SELECT count("offset") FROM ${quoteIdent(MEASUREMENT.legacyView)} WHERE ${since} GROUP BY time(1m), "region", "page" fill(none)`;
    for (const s of await this.http.query(this.options.db, legacy)) {
      for (const [t, n] of rows(s)) add(t, decodeTag(s.tags?.region ?? ''), decodeTag(s.tags?.page ?? ''), n);
    }
    return [...counts]
      .map(([key, views]) => {
        const [minute, region, pageName] = key.split('\u0000') as [string, string, string];
        return { minuteStart: Number(minute), region, pageName, views };
      })
      .sort((a, b) => a.minuteStart - b.minuteStart);
  }

  async ready(): Promise<boolean> {
    if (!(await this.http.ping())) return false;
    return await this.init().then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

/** Quarter hours read at once when counting a window. */
const READ_CONCURRENCY = 4;
/** A read may take long (a busy quarter hour is ~100,000 points at 10 M events a day), as long as bytes keep coming. */
const READ_IDLE_MS = 60_000;
const READ_ATTEMPTS = 3;

const HOUR_MS = 3_600_000;
const quarterFloor = (t: number): number => Math.floor(t / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
const quarterCeil = (t: number): number => Math.ceil(t / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
const timeRange = (a: number, b: number): string => `time >= ${quoteString(iso(a))} AND time < ${quoteString(iso(b))}`;

/** `GROUP BY time(1d) … tz()`: InfluxDB cuts days at local midnight of the zone, DST included. */
function countQuery(measurement: string, from: number, to: number, timeZone: string, groupTags: string, upTo?: readonly LogPosition[]): string {
  return (
    `SELECT count("offset") FROM ${quoteIdent(measurement)} WHERE ${timeRange(from, to)}${cut(upTo)} ` +
    `GROUP BY time(1d)${groupTags} fill(none) tz(${quoteString(timeZone)})`
  );
}

/** [from, to) cut at UTC quarter hours, the unit point times are stored in. */
function quarters(from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = from; a < to; a = quarterFloor(a) + QUARTER_HOUR_MS) out.push([a, Math.min(to, quarterFloor(a) + QUARTER_HOUR_MS)]);
  return out;
}

async function withRetries(work: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= READ_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

/** Local midnights from the day of `from` to past `to`, ascending. */
function dayStarts(from: number, to: number, timeZone: string): number[] {
  const out: number[] = [];
  for (let d = DateTime.fromMillis(from, { zone: timeZone }).startOf('day'); d.toMillis() <= to; d = d.plus({ days: 1 }).startOf('day')) out.push(d.toMillis());
  return out;
}

/** The local midnight of the day `t` falls in (binary search over `days`). */
function dayOf(days: readonly number[], t: number): number {
  let lo = 0;
  let hi = days.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (days[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return days[lo]!;
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Only events a recompute's cut covers: of a listed partition, those at or below its position
 * (`partition` is a tag, `offset` a field); of a partition not listed, all (it was never recorded).
 */
function cut(upTo: readonly LogPosition[] | undefined): string {
  if (upTo === undefined) return '';
  const listed = upTo.map((c) => `("partition" = ${quoteString(String(c.partition))} AND "offset" <= ${BigInt(c.through).toString()})`);
  const unlisted = upTo.length === 0 ? '"offset" >= 0' : upTo.map((c) => `"partition" != ${quoteString(String(c.partition))}`).join(' AND ');
  return ` AND (${[...listed, `(${unlisted})`].join(' OR ')})`;
}

function rows(s: InfluxSeries): Array<[number, number]> {
  return s.values.map((v) => [Number(v[0]), Number(v[1])] as [number, number]).filter(([, n]) => n > 0);
}
