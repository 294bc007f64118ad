import type { LoggedEvent } from '../domain/event.js';

export interface DailyCount {
  /** the instant local midnight of the day begins, in the zone that was asked for */
  dayStart: number;
  region: string;
  pageName: string;
  views: number;
}

export interface DailyBotCount {
  dayStart: number;
  hits: number;
}

export interface RecentCount {
  minuteStart: number;
  region: string;
  pageName: string;
  views: number;
}

/** How far processing has recorded each partition of the log: offsets up to `through` (inclusive). */
export interface LogPosition {
  partition: number;
  /** decimal string (Kafka offsets are 64-bit); `-1` = nothing yet */
  through: string;
}

/** The region and page name an event was stored under (past the cardinality caps: `(other)`). */
export interface StoredNames {
  region: string;
  pageName: string;
}

/** The time-series store (InfluxDB in distributed mode). */
export interface EventStore {
  /**
   * Idempotent: writing an event with the same (partition, offset) again stores it once.
   * Returns, in the same order, the names each event was stored under.
   */
  write(events: readonly LoggedEvent[]): Promise<StoredNames[]>;
  /**
   * Page views (not bots) per local day, region and page in [from, to). With `upTo` (a
   * recompute's cut), only events at or below their partition's listed position; events of
   * partitions not listed all count.
   */
  dailyCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyCount[]>;
  dailyBotCounts(from: number, to: number, timeZone: string, upTo?: readonly LogPosition[]): Promise<DailyBotCount[]>;
  /** Page views per minute since `from`, for the realtime panel. */
  recentCounts(from: number): Promise<RecentCount[]>;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
