import type { LoggedEvent } from '../../domain/event.js';
import type { DailyBotCount, DailyCount, EventStore, LogPosition, RecentCount, StoredNames } from '../../ports/event-store.js';
import { CappedNames, OVERFLOW_NAME, type CardinalityLimits } from '../cardinality.js';
import { InfluxHttp, type InfluxSeries } from './client.js';
import { decodeTag, MEASUREMENT, quoteIdent, quoteString, toLine } from './line-protocol.js';

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
 * The time-series store on InfluxDB (`page_view_bucket`). Counting is pushed down to InfluxQL;
 * only one row per day, region and page comes back.
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
    this.initialised ??= this.createDatabase().then(
      async () => await this.loadKnownNames(),
    );
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
    for (const [key, names] of [['page', this.pages], ['region', this.regions]] as const) {
      const series = await this.http.query(this.options.db, `SHOW TAG VALUES FROM ${quoteIdent(MEASUREMENT.view)} WITH KEY = ${quoteIdent(key)}`);
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
   * Distinct page names and regions are series in InfluxDB: past MAX_PAGE_NAMES / MAX_REGIONS,
   * new ones count as `(other)` so a crawler inventing URLs cannot blow up the index.
   */
  async write(events: readonly LoggedEvent[]): Promise<StoredNames[]> {
    await this.init();
    const stored = events.map((e) => ({ region: this.regions.admit(e.region).name, pageName: this.pages.admit(e.pageName).name }));
    for (let i = 0; i < events.length; i += this.linesPerWrite) {
      const lines: string[] = [];
      for (let j = i; j < Math.min(events.length, i + this.linesPerWrite); j++) {
        lines.push(toLine(events[j]!, stored[j]!.pageName, stored[j]!.region));
      }
      await this.http.write(this.options.db, lines);
    }
    return stored;
  }

  async dailyCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyCount[]> {
    await this.init();
    const series = await this.http.query(this.options.db, this.countQuery(MEASUREMENT.view, from, to, timeZone, ', "region", "page"', upTo));
    return series.flatMap((s) =>
      rows(s).map(([t, n]) => ({ dayStart: t, region: decodeTag(s.tags?.region ?? ''), pageName: decodeTag(s.tags?.page ?? ''), views: n })),
    );
  }

  async dailyBotCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyBotCount[]> {
    const series = await this.http.query(this.options.db, this.countQuery(MEASUREMENT.bot, from, to, timeZone, '', upTo));
    return series.flatMap((s) => rows(s).map(([t, n]) => ({ dayStart: t, hits: n })));
  }

  async recentCounts(from: number): Promise<RecentCount[]> {
    const q =
      `SELECT count("offset") FROM ${quoteIdent(MEASUREMENT.view)} WHERE time >= ${quoteString(iso(from))} ` +
      `GROUP BY time(1m), "region", "page" fill(none)`;
    const series = await this.http.query(this.options.db, q);
    return series
      .flatMap((s) =>
        rows(s).map(([t, n]) => ({ minuteStart: t, region: decodeTag(s.tags?.region ?? ''), pageName: decodeTag(s.tags?.page ?? ''), views: n })),
      )
      .sort((a, b) => a.minuteStart - b.minuteStart);
  }

  /** `GROUP BY time(1d) … tz()`: InfluxDB cuts days at local midnight of the zone, DST included. */
  private countQuery(measurement: string, from: number, to: number, timeZone: string, groupTags: string, upTo?: readonly LogPosition[]): string {
    return (
      `SELECT count("offset") FROM ${quoteIdent(measurement)} ` +
      `WHERE time >= ${quoteString(iso(from))} AND time < ${quoteString(iso(to))}${cut(upTo)} ` +
      `GROUP BY time(1d)${groupTags} fill(none) tz(${quoteString(timeZone)})`
    );
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

/** Only events at or below their partition's position: `partition` is a tag, `offset` a field. */
function cut(upTo: readonly LogPosition[] | undefined): string {
  if (upTo === undefined) return '';
  if (upTo.length === 0) return ' AND "offset" < 0';
  const each = upTo.map((c) => `("partition" = ${quoteString(String(c.partition))} AND "offset" <= ${BigInt(c.through).toString()})`);
  return ` AND (${each.join(' OR ')})`;
}

function rows(s: InfluxSeries): Array<[number, number]> {
  return s.values.map((v) => [Number(v[0]), Number(v[1])] as [number, number]).filter(([, n]) => n > 0);
}
