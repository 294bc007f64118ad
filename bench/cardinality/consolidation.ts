import type { BenchContext } from '../lib/context.js';
import { consolidateResult, runCliOnce } from '../lib/cli-once.js';
import { DAY_MS } from '../lib/dataset.js';
import { num } from '../lib/report.js';
import { formatMs, log, now } from '../lib/stats.js';
import { ZipfDay } from '../lib/zipf-events.js';
import { consolidatorFor } from '../stages/consolidation.js';
import { processEvents, type AfterSetup } from './after.js';

export interface ConsolidationFigures {
  /** the day's deltas folded at once (in the bench process, the store's own fold) */
  dayFoldMs: number;
  dayFoldPending: number;
  /** `page-stats consolidate --recompute`: the run's own duration and the whole process */
  recomputeMs: number;
  recomputeProcessMs: number;
  /** why the recompute has no time (it failed: reported, the stage goes on) */
  recomputeFailure?: string;
  /** one more minute of events, then `page-stats consolidate` (a fold) */
  minuteEvents: number;
  minuteProcessingMs: number;
  foldMs: number;
  foldProcessMs: number;
  foldPending: number;
  /** how the fold ran: `page-stats consolidate`, or the store's fold when the recompute failed */
  foldHow: string;
}

/**
 * Incremental consolidation at the shape, after processing stored the day (`s`): the day's pending
 * deltas folded, then a full recompute of the late-arrival window (`page-stats consolidate
 * --recompute`, its own process), then one more minute of events (a 1,440th of the day) through
 * processing and one scheduled run (`page-stats consolidate`, a fold). Each leaves the rollups
 * equal to what was processed; that is checked.
 */
export async function measureConsolidation(ctx: BenchContext, s: AfterSetup, day: ZipfDay): Promise<ConsolidationFigures> {
  const env = { DATABASE_URL: s.databaseUrl, INFLUX_URL: s.influxUrl, INFLUX_DB: s.db, REPORT_TIMEZONE: 'UTC' };
  const c = await consolidatorFor(s.influxUrl, s.db, s.databaseUrl);
  const rollups = await c.adapters.rollupStore();
  const viewsOn = async (start: number): Promise<number> =>
    (await rollups.query({ granularity: 'daily', start, end: start + DAY_MS })).reduce((n, r) => n + r.views, 0);
  try {
    // A day of deltas at once: what a first run after a day without consolidation folds.
    log('cardinality consolidation: folding the day\'s pending deltas');
    const f0 = now();
    const dayFold = await rollups.foldPending('UTC', 1);
    const dayFoldMs = now() - f0;
    ctx.detail(`cardinality consolidation: the day's deltas folded at once (SqlRollupStore.foldPending in the bench process): ${formatMs(dayFoldMs)}, ${num(dayFold.pending)} pending rows, ${num(dayFold.views)} views, ${num(dayFold.daily)} daily rows`);
    if ((await viewsOn(day.start)) !== day.count) throw new Error(`after the fold region_daily holds ${await viewsOn(day.start)} of ${day.count} views`);

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
      ctx.detail(`cardinality consolidation: page-stats consolidate --recompute: ${formatMs(recomputeMs)} (process ${formatMs(recompute.ms)}): ${JSON.stringify(recomputed)}`);
      if (recomputed.mode !== 'recompute') throw new Error(`--recompute ran as ${recomputed.mode}`);
      if ((await viewsOn(day.start)) !== day.count) throw new Error(`after the recompute region_daily holds ${await viewsOn(day.start)} of ${day.count} views`);
    } catch (err) {
      recomputeFailure = `failed after ${formatMs(now() - r0)}: ${(err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ')}`;
      ctx.detail(`cardinality consolidation: page-stats consolidate --recompute ${recomputeFailure}`);
    }

    // One more minute: the last whole minute before now, a 1,440th of the day's events.
    const minuteStart = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const minute = new ZipfDay(Math.round(day.count / 1_440), minuteStart, 60_000, 13, day.count);
    const today = Math.floor(minuteStart / DAY_MS) * DAY_MS;
    const todayBefore = await viewsOn(today);
    log(`cardinality consolidation: one more minute, ${num(minute.count)} events, through processing`);
    const processed = await processEvents(ctx, s, minute, day.count);

    // Without a successful recompute the scheduled run would recompute again: then the store's fold.
    let fold: { ms: number; processMs: number; pending: number; views: number; how: string };
    if (recomputeFailure === undefined) {
      const run = await runCliOnce(['consolidate'], env);
      const folded = consolidateResult(run);
      ctx.detail(`cardinality consolidation: page-stats consolidate after one more minute: ${formatMs(folded.durationMs)} (process ${formatMs(run.ms)}): ${JSON.stringify(folded)}`);
      if (folded.mode !== 'incremental') throw new Error(`the scheduled run ran as ${folded.mode}, not as a fold`);
      fold = { ms: folded.durationMs, processMs: run.ms, pending: Number(folded.pendingRows ?? 0), views: Number(folded.views), how: 'page-stats consolidate' };
    } else {
      const t0 = now();
      const folded = await rollups.foldPending('UTC', 1);
      fold = { ms: now() - t0, processMs: Number.NaN, pending: folded.pending, views: folded.views, how: 'SqlRollupStore.foldPending (the recompute failed)' };
      ctx.detail(`cardinality consolidation: one more minute folded by ${fold.how}: ${formatMs(fold.ms)}, ${JSON.stringify(folded)}`);
    }
    if (fold.views !== minute.count) throw new Error(`the fold added ${fold.views} views, expected ${minute.count}`);
    const todayAfter = await viewsOn(today);
    if (todayAfter - todayBefore !== minute.count) throw new Error(`region_daily of ${new Date(today).toISOString()} grew by ${todayAfter - todayBefore}, expected ${minute.count}`);

    return {
      dayFoldMs,
      dayFoldPending: dayFold.pending,
      recomputeMs,
      recomputeProcessMs,
      ...(recomputeFailure === undefined ? {} : { recomputeFailure }),
      minuteEvents: minute.count,
      minuteProcessingMs: processed.consumingMs,
      foldMs: fold.ms,
      foldProcessMs: fold.processMs,
      foldPending: fold.pending,
      foldHow: fold.how,
    };
  } finally {
    await c.adapters.close();
  }
}
