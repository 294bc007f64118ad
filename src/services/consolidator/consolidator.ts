import type { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { invalidInput } from '../../domain/errors.js';
import { chunkDays, dayWindow, localDate, parseLocalDate, type WeekStart } from '../../domain/periods.js';
import type { Clock } from '../../ports/clock.js';
import type { EventStore } from '../../ports/event-store.js';
import type { RollupStore } from '../../ports/rollup-store.js';

export interface ConsolidatorSettings {
  timeZone: string;
  weekStart: WeekStart;
  lateArrivalWindowMs: number;
}

export interface ConsolidationResult {
  from: string;
  to: string;
  timezone: string;
  days: number;
  dailyRows: number;
  weeklyRows: number;
  monthlyRows: number;
  botHits: number;
  durationMs: number;
}

/** A backfill is split into chunks of this many days; each chunk is replaced in one transaction. */
const CHUNK_DAYS = 31;
export const MAX_RANGE_DAYS = 366 * 20;
/**
 * Days a run may cover: events are epoch milliseconds, and the weeks and months of a day late in
 * 9999 end in year 10000, which neither ISO strings nor PostgreSQL timestamps can carry.
 */
const FIRST_YEAR = 1970;
const LAST_YEAR = 9998;

/**
 * consolidator-service: counts page views per local day from the event store (the store does the
 * aggregation) and hands them to the rollup store, which replaces the window and derives weeks and
 * months in SQL. Recomputing from the events every time is what makes a rerun change nothing and
 * lets late events inside the window be counted on the next run.
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
    for (const [name, day] of [['from', f], ['to', t]] as const) {
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
  run(range: { from?: string | undefined; to?: string | undefined } = {}): Promise<ConsolidationResult> {
    const parsed = this.parseRange(range.from, range.to);
    const next = this.tail.then(
      async () => await this.runNow(parsed.from, parsed.to),
      async () => await this.runNow(parsed.from, parsed.to),
    );
    this.tail = next.catch(() => {});
    return next;
  }

  /** Resolves when no run is in progress or queued. */
  async idle(): Promise<void> {
    await this.tail;
  }

  private async runNow(from: DateTime, to: DateTime): Promise<ConsolidationResult> {
    const started = Date.now();
    const { timeZone, weekStart } = this.settings;
    const result: ConsolidationResult = {
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
        const [daily, bots] = await Promise.all([
          this.events.dailyCounts(window.start, window.end, timeZone),
          this.events.dailyBotCounts(window.start, window.end, timeZone),
        ]);
        const replaced = await this.rollups.replaceWindow({ ...window, timeZone, weekStart, daily, bots });
        result.days += Math.round(chunk.to.diff(chunk.from, 'days').days) + 1;
        result.dailyRows += replaced.daily;
        result.weeklyRows += replaced.weekly;
        result.monthlyRows += replaced.monthly;
        result.botHits += bots.reduce((n, b) => n + b.hits, 0);
        this.logger.debug({ from: chunk.from.toISODate(), to: chunk.to.toISODate(), ...replaced }, 'consolidation_chunk_done');
      }
    } catch (err) {
      this.runs.inc({ outcome: 'failure' });
      this.logger.error({ err, from: result.from, to: result.to }, 'consolidation_failed');
      throw err;
    }
    result.durationMs = Date.now() - started;
    this.runs.inc({ outcome: 'success' });
    this.lastSuccess.set(Date.now() / 1000);
    this.logger.info(result, 'consolidation_done');
    return result;
  }
}
