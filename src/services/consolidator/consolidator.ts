import type { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AppError, invalidInput } from '../../domain/errors.js';
import { chunkDays, dayWindow, localDate, parseLocalDate, type WeekStart } from '../../domain/periods.js';
import type { Clock } from '../../ports/clock.js';
import type { EventStore } from '../../ports/event-store.js';
import { CutMovedError, type RollupStore } from '../../ports/rollup-store.js';

export interface ConsolidatorSettings {
  timeZone: string;
  weekStart: WeekStart;
  lateArrivalWindowMs: number;
  /** a scheduled run recomputes the window when the last recompute is older; 0 = always */
  recomputeIntervalMs: number;
}

export interface ConsolidationRequest {
  from?: string | undefined;
  to?: string | undefined;
  /** recompute the late-arrival window from the event store now */
  recompute?: boolean | undefined;
}

export interface ConsolidationResult {
  /** incremental: the deltas processing recorded were folded in; recompute: days read again from the event store */
  mode: 'incremental' | 'recompute';
  from: string;
  to: string;
  timezone: string;
  days: number;
  dailyRows: number;
  weeklyRows: number;
  monthlyRows: number;
  botHits: number;
  /** incremental: pending rows folded in, and the page views they held */
  pendingRows?: number;
  views?: number;
  durationMs: number;
}

/**
 * A scheduled run folded the pending deltas, then the recompute that was due failed: the rollups
 * are up to date with what processing recorded, and the next run tries the recompute again.
 */
export class RecomputeFailedError extends AppError {
  constructor(
    readonly folded: ConsolidationResult,
    cause: unknown,
  ) {
    super('store_unavailable', `the window recompute failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      details: [`the ${folded.pendingRows ?? 0} pending rows (${folded.views ?? 0} page views) were folded in first; the next run tries the recompute again`],
      cause,
      retryAfterSeconds: 60,
    });
    this.name = 'RecomputeFailedError';
  }
}

/** A backfill is split into chunks of this many days; each chunk is replaced in one transaction. */
const CHUNK_DAYS = 31;
/** A fold between a chunk's cut and its replace makes the chunk read again; this many times at most. */
const CUT_ATTEMPTS = 5;
export const MAX_RANGE_DAYS = 366 * 20;
/**
 * Days a run may cover: events are epoch milliseconds, and the weeks and months of a day late in
 * 9999 end in year 10000, which neither ISO strings nor PostgreSQL timestamps can carry.
 */
const FIRST_YEAR = 1970;
const LAST_YEAR = 9998;

/**
 * consolidator-service. A scheduled run folds in the per-day deltas processing recorded since the
 * last run (cost follows the new events, not the window or the number of series); every
 * RECOMPUTE_INTERVAL, and for any range asked for, it recomputes whole days from the event store
 * instead (the store does the aggregation) and replaces them in the rollups, which is what makes
 * the event store the source of truth and repairs anything a fold could not know about. A
 * recompute reads the store at a cut (each partition's recorded position), so events processed
 * meanwhile are neither lost nor counted twice: they stay pending for the next fold.
 */
export class Consolidator {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly runs: Counter<'outcome'>;
  private readonly lastSuccess: Gauge;

  constructor(
    private readonly events: EventStore,
    private readonly rollups: RollupStore,
    private readonly clock: Clock,
    private readonly settings: ConsolidatorSettings,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.runs = new Counter({
      name: 'page_stats_consolidation_runs_total',
      help: 'Consolidation runs, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.lastSuccess = new Gauge({
      name: 'page_stats_consolidation_last_success_seconds',
      help: 'Unix time of the last successful consolidation',
      registers: [registry],
    });
  }

  /** The days of the late-arrival window, ending today in the reporting time zone. */
  defaultRange(): { from: string; to: string } {
    const now = this.clock.now();
    return {
      from: localDate(now - this.settings.lateArrivalWindowMs, this.settings.timeZone),
      to: localDate(now, this.settings.timeZone),
    };
  }

  parseRange(from: string | undefined, to: string | undefined): { from: DateTime; to: DateTime } {
    const fallback = this.defaultRange();
    const zone = this.settings.timeZone;
    const f = parseLocalDate(from ?? fallback.from, zone);
    const t = parseLocalDate(to ?? from ?? fallback.to, zone);
    const problems: string[] = [];
    if (f === undefined) problems.push(`from: expected a date YYYY-MM-DD, got "${from}"`);
    if (t === undefined) problems.push(`to: expected a date YYYY-MM-DD, got "${to}"`);
    for (const [name, day] of [
      ['from', f],
      ['to', t],
    ] as const) {
      if (day !== undefined && (day.year < FIRST_YEAR || day.year > LAST_YEAR)) {
        problems.push(`${name}: must be a day in the years ${FIRST_YEAR} to ${LAST_YEAR}, got "${day.toISODate()}"`);
      }
    }
    if (f === undefined || t === undefined || problems.length > 0) throw invalidInput('invalid consolidation range', problems);
    if (t < f) throw invalidInput('invalid consolidation range', ['to: must not be before from']);
    const days = t.diff(f, 'days').days + 1;
    if (days > MAX_RANGE_DAYS) throw invalidInput('invalid consolidation range', [`at most ${MAX_RANGE_DAYS} days per run`]);
    return { from: f, to: t };
  }

  /** Runs are serialised: a manual run waits for a scheduled one in progress, and vice versa. */
  run(request: ConsolidationRequest = {}): Promise<ConsolidationResult> {
    const explicit = request.from !== undefined || request.to !== undefined;
    const parsed = explicit || request.recompute ? this.parseRange(request.from, request.to) : undefined;
    const work = async () => {
      if (parsed !== undefined) return await this.runNow(parsed.from, parsed.to, explicit ? 'range' : 'window');
      // The fold comes first, whatever follows: a recompute that fails (an event store that is
      // down, or too slow for the window) must not keep the rollups from updating.
      const folded = await this.fold();
      if (!(await this.recomputeDue())) return folded;
      const window = this.parseRange(undefined, undefined);
      try {
        return { ...(await this.runNow(window.from, window.to, 'window')), pendingRows: folded.pendingRows, views: folded.views };
      } catch (err) {
        throw new RecomputeFailedError(folded, err);
      }
    };
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => {});
    return next;
  }

  private async recomputeDue(): Promise<boolean> {
    if (this.settings.recomputeIntervalMs === 0) return true;
    const last = await this.rollups.lastWindowRecompute();
    return last === undefined || this.clock.now() - last >= this.settings.recomputeIntervalMs;
  }

  private async fold(): Promise<ConsolidationResult> {
    const started = Date.now();
    const { timeZone, weekStart } = this.settings;
    const window = this.defaultRange();
    try {
      const folded = await this.rollups.foldPending(timeZone, weekStart);
      const result: ConsolidationResult = {
        mode: 'incremental',
        from: window.from,
        to: window.to,
        timezone: timeZone,
        days: 0,
        dailyRows: folded.daily,
        weeklyRows: folded.weekly,
        monthlyRows: folded.monthly,
        botHits: folded.botHits,
        pendingRows: folded.pending,
        views: folded.views,
        durationMs: Date.now() - started,
      };
      this.succeeded(result);
      return result;
    } catch (err) {
      this.failed(err, window);
      throw err;
    }
  }

  private succeeded(result: ConsolidationResult): void {
    this.runs.inc({ outcome: 'success' });
    this.lastSuccess.set(Date.now() / 1000);
    this.logger.info(result, 'consolidation_done');
  }

  private failed(err: unknown, range: { from: string; to: string }): void {
    this.runs.inc({ outcome: 'failure' });
    this.logger.error({ err, from: range.from, to: range.to }, 'consolidation_failed');
  }

  /** Resolves when no run is in progress or queued. */
  async idle(): Promise<void> {
    await this.tail;
  }

  private async runNow(from: DateTime, to: DateTime, mode: 'window' | 'range'): Promise<ConsolidationResult> {
    const started = Date.now();
    const { timeZone, weekStart } = this.settings;
    const result: ConsolidationResult = {
      mode: 'recompute',
      from: from.toISODate() ?? '',
      to: to.toISODate() ?? '',
      timezone: timeZone,
      days: 0,
      dailyRows: 0,
      weeklyRows: 0,
      monthlyRows: 0,
      botHits: 0,
      durationMs: 0,
    };
    try {
      for (const chunk of chunkDays(from, to, CHUNK_DAYS)) {
        const window = dayWindow(chunk.from, chunk.to);
        for (let attempt = 1; ; attempt++) {
          const cut = await this.rollups.cut();
          const [daily, bots] = await Promise.all([
            this.events.dailyCounts(window.start, window.end, timeZone, cut.positions),
            this.events.dailyBotCounts(window.start, window.end, timeZone, cut.positions),
          ]);
          try {
            const replaced = await this.rollups.replaceWindow({ ...window, timeZone, weekStart, daily, bots, cut, mode });
            result.dailyRows += replaced.daily;
            result.weeklyRows += replaced.weekly;
            result.monthlyRows += replaced.monthly;
            result.botHits += bots.reduce((n, b) => n + b.hits, 0);
            this.logger.debug({ from: chunk.from.toISODate(), to: chunk.to.toISODate(), ...replaced }, 'consolidation_chunk_done');
            break;
          } catch (err) {
            if (!(err instanceof CutMovedError) || attempt >= CUT_ATTEMPTS) throw err;
            this.logger.info({ attempt }, 'consolidation_cut_moved');
          }
        }
        result.days += Math.round(chunk.to.diff(chunk.from, 'days').days) + 1;
      }
    } catch (err) {
      this.failed(err, result);
      throw err;
    }
    result.durationMs = Date.now() - started;
    this.succeeded(result);
    return result;
  }
}
