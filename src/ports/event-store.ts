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

/** The time-series store (InfluxDB in distributed mode). */
export interface EventStore {
  /** Idempotent: writing an event with the same (partition, offset) again stores it once. */
  write(events: readonly LoggedEvent[]): Promise<void>;
  /** Page views (not bots) per local day, region and page in [from, to). */
  dailyCounts(from: number, to: number, timeZone: string): Promise<DailyCount[]>;
  dailyBotCounts(from: number, to: number, timeZone: string): Promise<DailyBotCount[]>;
  /** Page views per minute since `from`, for the realtime panel. */
  recentCounts(from: number): Promise<RecentCount[]>;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
