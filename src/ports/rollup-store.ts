import type { Decomposition, Granularity, WeekStart } from '../domain/periods.js';
import type { DailyBotCount, DailyCount } from './event-store.js';

export interface RollupRow {
  periodStart: number;
  region: string;
  pageName: string;
  views: number;
}

/** A row's place in the API's order (periodStart, region, pageName): where the next page starts. */
export interface RowKey {
  periodStart: number;
  region: string;
  pageName: string;
}

export interface RollupQuery {
  granularity: Granularity;
  /** rows whose period overlaps [start, end) */
  start: number;
  end: number;
  region?: string | undefined;
  pageName?: string | undefined;
  /** at most this many rows (all when absent) */
  limit?: number | undefined;
  /** only rows after this one */
  after?: RowKey | undefined;
}

export interface StatsFilter {
  region?: string | undefined;
  pageName?: string | undefined;
}

export type Dimension = 'page' | 'region';

export interface KeyViews {
  key: string;
  views: number;
}

export interface BreakdownQuery {
  by: Dimension;
  /** the days of the range as whole months, weeks and days */
  pieces: Decomposition;
  filter: StatsFilter;
  /** case-insensitive substring of the key */
  search?: string | undefined;
  limit: number;
  offset: number;
}

export interface Breakdown {
  /** views of every key that matches */
  total: number;
  /** number of keys that match */
  distinct: number;
  /** by views descending, ties by key */
  rows: KeyViews[];
}

export interface SeriesQuery {
  interval: Granularity;
  /** whole local days */
  start: number;
  end: number;
  timeZone: string;
  weekStart: WeekStart;
  filter: StatsFilter;
}

export interface ReplaceWindow {
  /** [start, end) covering whole local days */
  start: number;
  end: number;
  timeZone: string;
  weekStart: WeekStart;
  daily: readonly DailyCount[];
  bots: readonly DailyBotCount[];
}

export interface ReplaceResult {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface BotRow {
  periodStart: number;
  hits: number;
}

/** PostgreSQL tables region_daily, region_weekly, region_monthly (PGlite when embedded). */
export interface RollupStore {
  migrate(): Promise<void>;
  /**
   * In one transaction: replaces the daily rows of the window with `daily`, and recomputes
   * every weekly and monthly row whose period touches the window from the daily rows.
   */
  replaceWindow(window: ReplaceWindow): Promise<ReplaceResult>;
  /** Rows in the API's order: periodStart, region, pageName (byte order). */
  query(q: RollupQuery): Promise<RollupRow[]>;
  /** Total views of the days in `pieces`. */
  views(pieces: Decomposition, filter: StatsFilter): Promise<number>;
  /** Number of distinct pages or regions with views in `pieces`. */
  distinct(by: Dimension, pieces: Decomposition, filter: StatsFilter): Promise<number>;
  breakdown(q: BreakdownQuery): Promise<Breakdown>;
  /** Views per period of `interval`, counting only the days in [start, end); periods without views are left out. */
  series(q: SeriesQuery): Promise<Array<{ periodStart: number; views: number }>>;
  /** Bot hits of the days starting in [start, end). */
  botHits(start: number, end: number): Promise<number>;
  /** Bot hits per day overlapping [start, end). */
  bots(start: number, end: number): Promise<BotRow[]>;
  regions(): Promise<string[]>;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
