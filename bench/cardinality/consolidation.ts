import type { RollupStore } from '../../src/ports/rollup-store.js';
import { RETRY_WINDOW_MS } from '../../src/services/processing/dedup.js';
import type { BenchContext } from '../lib/context.js';
import { consolidateResult, runCliOnce } from '../lib/cli-once.js';
import { DAY_MS } from '../lib/dataset.js';
import { num } from '../lib/report.js';
import { formatMs, log, median, now, sleep } from '../lib/stats.js';
import { ZipfDay } from '../lib/zipf-events.js';
import { consolidatorFor } from '../stages/consolidation.js';
import { processEvents, type AfterSetup } from './after.js';

export interface ConsolidationFigures {
  /** the folds run after each processing round, as the CronJob would (the store's fold) */
  roundFolds: { ms: number[]; pending: number[] };
  /** `page-stats consolidate --recompute`: the run's own duration and the whole process */
  recomputeMs: number;
  recomputeProcessMs: number;
  /** why the recompute has no time (it failed: reported, the stage goes on) */
  recomputeFailure?: string;
  /** one more minute of events, then one scheduled run (a fold) */
  minuteEvents: number;
  foldMs: number;
  foldProcessMs: number;
  foldPending: number;
  /** how the fold ran: `page-stats consolidate`, or the store's fold when the recompute failed */
  foldHow: string;
}

export interface Rollups {
  store: RollupStore;
  close(): Promise<void>;
}

/** The rollup store as `page-stats consolidate` opens it, for the folds the bench runs itself. */
export async function openRollups(s: AfterSetup): Promise<Rollups> {
  const c = await consolidatorFor(s.influxUrl, s.db, s.databaseUrl);
  return { store: await c.adapters.rollupStore(), close: async () => await c.adapters.close() };
}

/**
 * A scheduled run between processing rounds: `page-stats consolidate` folds, once a window
 * recompute is on record; before that it would recompute, so the bench runs the same fold
 * (`foldPending`, the SQL of an incremental run) through the store.
 */
export function foldAfterEachRound(rollups: RollupStore, folds: ConsolidationFigures['roundFolds']): () => Promise<void> {
  return async () => {
    const t0 = now();
    const r = await rollups.foldPending('UTC', 1);
    folds.ms.push(now() - t0);
    folds.pending.push(r.pending);
  };
}

/**
 * After processing stored the day (`s`) and folded it round by round: a full recompute of the
 * late-arrival window (`page-stats consolidate --recompute`, its own process), then — once the
 * day's request ids have expired and were cleared by a fold, as a fold every five minutes keeps
 * them in production — one more minute of events (a 1,440th of the day) through processing and
 * one scheduled run (`page-stats consolidate`, a fold), timed. The rollups are checked against
 * what was processed after each step.
 */
export async function measureConsolidation(
  ctx: BenchContext,
  s: AfterSetup,
  day: ZipfDay,
  rollups: RollupStore,
  processingEndedAt: number,
  roundFolds: ConsolidationFigures['roundFolds'],
): Promise<ConsolidationFigures> {
  const env = { DATABASE_URL: s.databaseUrl, INFLUX_URL: s.influxUrl, INFLUX_DB: s.db, REPORT_TIMEZONE: 'UTC' };
  const viewsOn = async (start: number): Promise<number> =>
    (await rollups.query({ granularity: 'daily', start, end: start + DAY_MS })).reduce((n, r) => n + r.views, 0);
  ctx.detail(
    `cardinality consolidation: a fold after each of ${roundFolds.ms.length} processing rounds (the store's fold): median ${formatMs(median(roundFolds.ms))}, ` +
      `slowest ${formatMs(Math.max(...roundFolds.ms))}, median ${num(median(roundFolds.pending))} pending rows each`,
  );
  if ((await viewsOn(day.start)) !== day.count) throw new Error(`after the folds region_daily holds ${await viewsOn(day.start)} of ${day.count} views`);

  log('cardinality consolidation: page-stats consolidate --recompute');
  const r0 = now();
  let recomputeMs = Number.NaN;
  let recomputeProcessMs = Number.NaN;
  let recomputeFailure: string | undefined;
  try {
    const recompute = await runCliOnce(['consolidate', '--recompute'], env);
    const recomputed = consolidateResult(recompute);
    recomputeMs = recomputed.durationMs;
    recomputeProcessMs = recompute.ms;
    ctx.detail(
      `cardinality consolidation: page-stats consolidate --recompute: ${formatMs(recomputeMs)} (process ${formatMs(recompute.ms)}): ${JSON.stringify(recomputed)}`,
    );
    if (recomputed.mode !== 'recompute') throw new Error(`--recompute ran as ${recomputed.mode}`);
    if ((await viewsOn(day.start)) !== day.count) throw new Error(`after the recompute region_daily holds ${await viewsOn(day.start)} of ${day.count} views`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const reason = /"message":"([^"]*)"/.exec(message)?.[1] ?? message.split('\n')[0] ?? '';
    recomputeFailure = `failed after ${formatMs(now() - r0)}: ${reason.replace(/ at http:\/\/\S+/, '')}`;
    ctx.detail(`cardinality consolidation: page-stats consolidate --recompute ${recomputeFailure}; ${message.slice(0, 1_500).replace(/\n/g, ' ')}`);
  }

  // The day's request ids expire RETRY_WINDOW_MS after processing; in production each fold
  // clears five minutes' worth. Clear them all here, so the timed fold does only its own work.
  // (--quick does not wait: its timed fold also deletes what expired meanwhile)
  const wait = ctx.options.quick ? 0 : processingEndedAt + RETRY_WINDOW_MS + 5_000 - Date.now();
  if (wait > 0) {
    log(`cardinality consolidation: waiting ${formatMs(wait)} for the day's request ids to expire`);
    await sleep(wait);
  }
  const c0 = now();
  const cleared = await rollups.foldPending('UTC', 1);
  ctx.detail(`cardinality consolidation: a fold clearing the day's expired request ids: ${formatMs(now() - c0)} (${num(cleared.pending)} pending rows)`);

  // One more minute: the last whole minute before now, a 1,440th of the day's events.
  const minuteStart = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const minute = new ZipfDay(Math.round(day.count / 1_440), minuteStart, 60_000, 13, day.count);
  const today = Math.floor(minuteStart / DAY_MS) * DAY_MS;
  const todayBefore = await viewsOn(today);
  log(`cardinality consolidation: one more minute, ${num(minute.count)} events, through processing`);
  await processEvents(ctx, s, minute, day.count);

  // Without a successful recompute on record the scheduled run would recompute: then the store's fold.
  let fold: { ms: number; processMs: number; pending: number; views: number; how: string };
  if (recomputeFailure === undefined) {
    const run = await runCliOnce(['consolidate'], env);
    const folded = consolidateResult(run);
    ctx.detail(
      `cardinality consolidation: page-stats consolidate after one more minute: ${formatMs(folded.durationMs)} (process ${formatMs(run.ms)}): ${JSON.stringify(folded)}`,
    );
    if (folded.mode !== 'incremental') throw new Error(`the scheduled run ran as ${folded.mode}, not as a fold`);
    fold = { ms: folded.durationMs, processMs: run.ms, pending: Number(folded.pendingRows ?? 0), views: Number(folded.views), how: 'page-stats consolidate' };
  } else {
    const t0 = now();
    const folded = await rollups.foldPending('UTC', 1);
    fold = { ms: now() - t0, processMs: Number.NaN, pending: folded.pending, views: folded.views, how: 'the incremental fold (store; the recompute failed)' };
    ctx.detail(`cardinality consolidation: one more minute folded by SqlRollupStore.foldPending: ${formatMs(fold.ms)}, ${JSON.stringify(folded)}`);
  }
  if (fold.views !== minute.count) throw new Error(`the fold added ${fold.views} views, expected ${minute.count}`);
  const todayAfter = await viewsOn(today);
  if (todayAfter - todayBefore !== minute.count)
    throw new Error(`region_daily of ${new Date(today).toISOString()} grew by ${todayAfter - todayBefore}, expected ${minute.count}`);

  return {
    roundFolds,
    recomputeMs,
    recomputeProcessMs,
    ...(recomputeFailure === undefined ? {} : { recomputeFailure }),
    minuteEvents: minute.count,
    foldMs: fold.ms,
    foldProcessMs: fold.processMs,
    foldPending: fold.pending,
    foldHow: fold.how,
  };
}
