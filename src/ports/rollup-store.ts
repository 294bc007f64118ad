import type { Granularity, WeekStart } from '../domain/periods.js';
import type { DailyBotCount, DailyCount } from './event-store.js';

export interface RollupRow {
  periodStart: number;
  region: string;
  pageName: string;
  views: number;
}

export interface RollupQuery {
  granularity: Granularity;
  /** rows whose period overlaps [start, end) */
  start: number;
  end: number;
  region?: string | undefined;
  pageName?: string | undefined;
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
  query(q: RollupQuery): Promise<RollupRow[]>;
  /** Bot hits per day overlapping [start, end). */
  bots(start: number, end: number): Promise<BotRow[]>;
  regions(): Promise<string[]>;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
