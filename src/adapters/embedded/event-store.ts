import type { LoggedEvent } from '../../domain/event.js';
import type { DailyBotCount, DailyCount, EventStore, LogPosition, RecentCount, StoredNames } from '../../ports/event-store.js';
import { CappedNames, type CardinalityLimits } from '../cardinality.js';
import { answers, type SqlDatabase } from '../postgres/database.js';
import { localStart } from '../postgres/period-sql.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const DAY = localStart('daily', 'ts', '$3::text', '0');

type NameKind = 'page' | 'region';

/**
 * The embedded time-series store: a table keyed by the event's place in the log, so a
 * redelivered batch overwrites nothing and counts nothing twice. Page names and regions are
 * capped as in InfluxDB (MAX_PAGE_NAMES, MAX_REGIONS); the admitted names are kept in a table of
 * their own, written in the same transaction as the events, so the cap holds across restarts.
 */
export class EmbeddedEventStore implements EventStore {
  private readonly names: Record<NameKind, CappedNames>;

  private constructor(
    private readonly db: SqlDatabase,
    limits: CardinalityLimits,
  ) {
    this.names = { page: new CappedNames(limits.maxPageNames), region: new CappedNames(limits.maxRegions) };
  }

  static async open(db: SqlDatabase, limits: CardinalityLimits): Promise<EmbeddedEventStore> {
    await db.query(`CREATE TABLE IF NOT EXISTS page_events (
      log_partition integer NOT NULL, log_offset bigint NOT NULL,
      ts timestamptz NOT NULL, region text NOT NULL, page_name text NOT NULL, bot boolean NOT NULL,
      PRIMARY KEY (log_partition, log_offset))`);
    await db.query('CREATE INDEX IF NOT EXISTS page_events_ts_idx ON page_events (ts)');
    const { rows: existing } = await db.query<{ t: string | null }>(`SELECT to_regclass('event_names')::text AS t`);
    if (existing[0]?.t == null) {
      await db.transaction(async (tx) => {
        await tx.query('CREATE TABLE event_names (kind text NOT NULL, name text NOT NULL, PRIMARY KEY (kind, name))');
        // A data folder from before the cap: the names it holds are admitted already.
        await tx.query(`INSERT INTO event_names (kind, name)
          SELECT 'page', page_name FROM page_events UNION SELECT 'region', region FROM page_events`);
      });
    }
    const store = new EmbeddedEventStore(db, limits);
    const { rows } = await db.query<{ kind: NameKind; name: string }>('SELECT kind, name FROM event_names');
    for (const r of rows) store.names[r.kind]?.remember(r.name);
    return store;
  }

  async write(events: readonly LoggedEvent[]): Promise<StoredNames[]> {
    if (events.length === 0) return [];
    const admitted: Array<{ kind: NameKind; name: string }> = [];
    const admit = (kind: NameKind, name: string): string => {
      const result = this.names[kind].admit(name);
      if (result.isNew) admitted.push({ kind, name });
      return result.name;
    };
    const regions = events.map((e) => admit('region', e.region));
    const pages = events.map((e) => admit('page', e.pageName));
    try {
      await this.db.transaction(async (tx) => {
        if (admitted.length > 0) {
          await tx.query('INSERT INTO event_names (kind, name) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING', [
            admitted.map((a) => a.kind),
            admitted.map((a) => a.name),
          ]);
        }
        await tx.query(
          `INSERT INTO page_events (log_partition, log_offset, ts, region, page_name, bot)
           SELECT p, o, timestamptz 'epoch' + t * interval '1 millisecond', r, n, b
           FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::boolean[]) AS u(p, o, t, r, n, b)
           ON CONFLICT (log_partition, log_offset) DO NOTHING`,
          [events.map((e) => e.partition), events.map((e) => e.offset), events.map((e) => e.timestamp), regions, pages, events.map((e) => e.bot)],
        );
      });
    } catch (err) {
      // Nothing was stored: the names admitted for this batch are free again.
      for (const a of admitted) this.names[a.kind].forget(a.name);
      throw err;
    }
    return events.map((_, i) => ({ region: regions[i]!, pageName: pages[i]! }));
  }

  async dailyCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyCount[]> {
    const { rows } = await this.db.query<{ d: number; region: string; page_name: string; n: number }>(
      `SELECT (extract(epoch FROM ${DAY}) * 1000)::float8 AS d, region, page_name, count(*)::float8 AS n
       FROM page_events WHERE ts >= $1 AND ts < $2 AND NOT bot ${cut(upTo)}
       GROUP BY 1, 2, 3`,
      [iso(from), iso(to), timeZone, ...cutParams(upTo)],
    );
    return rows.map((r) => ({ dayStart: Number(r.d), region: r.region, pageName: r.page_name, views: Number(r.n) }));
  }

  async dailyBotCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyBotCount[]> {
    const { rows } = await this.db.query<{ d: number; n: number }>(
      `SELECT (extract(epoch FROM ${DAY}) * 1000)::float8 AS d, count(*)::float8 AS n
       FROM page_events WHERE ts >= $1 AND ts < $2 AND bot ${cut(upTo)} GROUP BY 1`,
      [iso(from), iso(to), timeZone, ...cutParams(upTo)],
    );
    return rows.map((r) => ({ dayStart: Number(r.d), hits: Number(r.n) }));
  }

  async recentCounts(from: number): Promise<RecentCount[]> {
    const { rows } = await this.db.query<{ m: number; region: string; page_name: string; n: number }>(
      `SELECT (extract(epoch FROM date_trunc('minute', ts)) * 1000)::float8 AS m, region, page_name, count(*)::float8 AS n
       FROM page_events WHERE ts >= $1 AND NOT bot GROUP BY 1, 2, 3 ORDER BY 1`,
      [iso(from)],
    );
    return rows.map((r) => ({ minuteStart: Number(r.m), region: r.region, pageName: r.page_name, views: Number(r.n) }));
  }

  async ready(): Promise<boolean> {
    return await answers(this.db);
  }

  async close(): Promise<void> {
    // The database is shared and closed by its owner (runtime composition).
  }
}

/**
 * `AND` the event is covered by a recompute's cut (params $4, $5): at or below its partition's
 * position, or of a partition the cut does not list (never recorded: all of it counts).
 */
function cut(upTo: readonly LogPosition[] | undefined): string {
  return upTo === undefined ? '' : `AND NOT EXISTS (SELECT 1 FROM unnest($4::int[], $5::bigint[]) AS c(p, o) WHERE c.p = log_partition AND log_offset > c.o)`;
}

function cutParams(upTo: readonly LogPosition[] | undefined): unknown[] {
  return upTo === undefined ? [] : [upTo.map((c) => c.partition), upTo.map((c) => c.through)];
}
