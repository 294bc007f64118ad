import type { Decomposition, Granularity, WeekStart } from '../domain/periods.js';
import type { RejectedMessage } from './event-bus.js';
import type { DailyBotCount, DailyCount, LogPosition } from './event-store.js';

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
  /**
   * The cut the counts were taken at (`cut()` before reading the event store): the pending
   * deltas of the window's days up to it are part of `daily` and are dropped; later ones stay
   * pending. Absent: drop none.
   */
  cut?: Cut | undefined;
  /** what the run was, for consolidation_runs: the late-arrival window, or a range asked for */
  mode?: 'window' | 'range' | undefined;
}

/**
 * Where processing had recorded each partition when a recompute began, and how many folds had
 * run. Events of listed partitions above `through` are left to later folds; partitions not
 * listed have never been recorded (data from before incremental consolidation): all their events count.
 */
export interface Cut {
  positions: LogPosition[];
  /** the last fold's number: a fold between the cut and the replace would be overwritten, so the replace refuses */
  folds: number;
}

/** A fold ran between a recompute's cut and its replace: take a new cut and read again. */
export class CutMovedError extends Error {
  constructor() {
    super('a fold ran during the recompute; take a new cut');
    this.name = 'CutMovedError';
  }
}

/** One processed event, as processing records it for incremental consolidation. */
export interface ProcessedEvent {
  partition: number;
  offset: string;
  timestamp: number;
  region: string;
  pageName: string;
  bot: boolean;
}

/** The copy of a request processing stored: the partition and the offset of its first event. */
export interface RequestCopy {
  partition: number;
  baseOffset: string;
}

export interface RecordedRequest extends RequestCopy {
  requestId: string;
  /** how long another copy may still arrive (epoch ms) */
  keepUntil: number;
}

/** A generated request id and the offset of its first copy's first event, in one partition. */
export type WindowRequest = readonly [requestId: string, baseOffset: number];

/** What `recordProcessed` keeps of a batch's request identities. */
export interface RecordedRequests {
  /** `Idempotency-Key` requests: one row each, found by `knownRequests` until `keepUntil` */
  keyed?: readonly RecordedRequest[];
  /**
   * Generated ids the batch stored first, by partition: one row per partition and batch (those at
   * or below the partition's position are recorded already), read back by `recentBatches` when
   * processing rebuilds a partition's window in memory.
   */
  generated?: ReadonlyMap<number, GeneratedRequests>;
  /** how long a generated id is kept after its batch (RETRY_WINDOW_MS) */
  windowMs: number;
}

export interface GeneratedRequests {
  /** the batch's time on the window's clock (epoch ms): the log's latest record time in it, else processing's clock */
  at: number;
  requests: readonly WindowRequest[];
}

/** One recorded batch's generated request ids. */
export interface RecentBatch {
  at: number;
  requests: WindowRequest[];
}

export interface FoldResult {
  /** pending rows folded in */
  pending: number;
  /** rollup rows written, per granularity (pairs only) */
  daily: number;
  weekly: number;
  monthly: number;
  views: number;
  botHits: number;
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

/** Page views of one bucket, region and page, from an imported file. */
export interface ImportedCount {
  /** a UTC quarter hour (events) or a local midnight (daily counts), epoch ms */
  bucket: number;
  region: string;
  pageName: string;
  views: number;
}

export type ImportKind = 'events' | 'daily';

/** What a complete source held: its kind is known once its header was read. */
export interface ImportTotals {
  kind: ImportKind;
  lines: number;
  views: number;
}

export type ImportStart =
  | { status: 'started'; id: number }
  /** a complete source has this content already */
  | { status: 'already imported'; importedAt: number }
  /** another import of the same content is writing right now */
  | { status: 'in progress' };

/** Imported history, kept beside the rollups and added to region_daily by every replace of its days. */
export interface ImportedCounts {
  /**
   * Registers a source (a file, by the SHA-256 of its content) before its rows are written. A
   * partial source of the same content that is no longer written to is removed first, so the file
   * is imported again from the start.
   */
  beginImport(source: { sha256: string; name: string }): Promise<ImportStart>;
  /** Adds counts to the source's rows (the same key twice adds up). */
  addImported(source: number, counts: readonly ImportedCount[]): Promise<void>;
  /**
   * Marks the source complete, so its rows count from now on; returns the first and last bucket
   * (undefined for a file without views).
   */
  completeImport(source: number, totals: ImportTotals): Promise<{ first: number; last: number } | undefined>;
  /** Removes a source that will not be completed (a refused file) and its rows. */
  abandonImport(source: number): Promise<void>;
}

/** PostgreSQL tables region_daily, region_weekly, region_monthly (PGlite when embedded). */
export interface RollupStore extends ImportedCounts {
  migrate(): Promise<void>;
  /**
   * In one transaction: replaces the daily rows of the window with `daily` plus the imported
   * counts of complete sources whose bucket falls in the window, and recomputes
   * every weekly and monthly row whose period touches the window from the daily rows.
   * Throws CutMovedError when a fold ran since `cut` was taken.
   */
  replaceWindow(window: ReplaceWindow): Promise<ReplaceResult>;
  /**
   * Before processing writes a partition to the event store for the first time: makes sure the
   * partition has a position, so a recompute's cut never counts events processing has not
   * recorded yet; `through` is the offset just below the first one it will write.
   */
  claimPartitions(positions: readonly LogPosition[]): Promise<void>;
  /**
   * After the event store has the events: adds their counts to the pending deltas, once. Events
   * at or below their partition's recorded position are skipped (a redelivered batch), and the
   * position moves to the last offset, in the same transaction.
   */
  recordProcessed(events: readonly ProcessedEvent[], requests?: RecordedRequests): Promise<number>;
  /** The stored copy of each of these (keyed) requests, where one was recorded and is still kept. */
  knownRequests(requestIds: readonly string[]): Promise<Map<string, RequestCopy>>;
  /**
   * The generated request ids of a partition's batches still kept, oldest first: those recorded
   * within their `windowMs` before the partition's latest recorded batch (not before now: a
   * partition whose processing paused forgets nothing).
   */
  recentBatches(partition: number): Promise<RecentBatch[]>;
  /** Keeps messages processing cannot decode (once per place in the log). */
  keepRejected(rejected: readonly RejectedMessage[]): Promise<void>;
  /** Where processing has recorded each partition up to, and the folds so far: the cut for a recompute. */
  cut(): Promise<Cut>;
  /** When the late-arrival window was last recomputed from the event store (epoch ms). */
  lastWindowRecompute(): Promise<number | undefined>;
  /**
   * Incremental consolidation: adds every pending delta to the daily, weekly and monthly rows
   * (and their sums) of its local day, in one transaction, and removes it.
   */
  foldPending(timeZone: string, weekStart: WeekStart): Promise<FoldResult>;
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
