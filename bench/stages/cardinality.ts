import { toLine } from '../../src/adapters/influx/line-protocol.js';
import { startInfluxDB } from '../../test/tooling/influxdb.js';
import { measureAfterStore, processEvents, setupFor } from '../cardinality/after.js';
import { measureBefore, type VariantResult } from '../cardinality/before.js';
import { measureConsolidation } from '../cardinality/consolidation.js';
import { migratedDatabase } from '../lib/cli-once.js';
import type { BenchContext } from '../lib/context.js';
import { createInfluxDb, utcDay, writeLines } from '../lib/dataset.js';
import { MiB } from '../lib/influx-probe.js';
import { num, type Goal } from '../lib/report.js';
import { formatMs, log, now } from '../lib/stats.js';
import { ZIPF_SHAPE, ZipfDay } from '../lib/zipf-events.js';

const BEFORE = 'schema 1, previous release';

/**
 * Issue 12's shape: 150 regions × 5,000 pages, Zipf, `--cardinality-events` in one day. Before
 * (schema 1 written as the previous release wrote it, and its consolidation query) and after (the
 * day through `page-stats processing` into schema 2, `InfluxEventStore.dailyCounts`), each in an
 * influxd of its own with the tests' configuration; then incremental consolidation and the
 * recompute at that shape, and processing's rate.
 */
export async function benchCardinality(ctx: BenchContext): Promise<void> {
  const { options, services } = ctx;
  const dayStart = utcDay(Date.now(), 1);
  const g0 = now();
  const day = new ZipfDay(options.cardinalityEvents, dayStart);
  ctx.detail(
    `cardinality: ${num(day.count)} events on ${new Date(dayStart).toISOString().slice(0, 10)}, ${ZIPF_SHAPE.regions} regions × ${num(ZIPF_SHAPE.pages)} pages ` +
      `(Zipf skew ${ZIPF_SHAPE.regionSkew} / ${ZIPF_SHAPE.pageSkew}), ${num(day.pairs)} (region, page) pairs; generated in ${formatMs(now() - g0)}`,
  );

  const before = await measureBefore(ctx, day);

  const [cluster, kafka] = await Promise.all([services.kafka(), services.kafkaClient()]);
  const topic = await services.topic('bench_cardinality', ZIPF_SHAPE.partitions);
  const databaseUrl = await migratedDatabase(services, 'cardinality');
  const influx = await startInfluxDB();
  try {
    const s = setupFor(kafka, cluster.brokers.join(','), topic, influx, databaseUrl);
    log(`cardinality after: ${num(day.count)} events through Kafka and page-stats processing`);
    const processing = await processEvents(ctx, s, day, 0);
    const after = await measureAfterStore(ctx, s, day, processing);
    const consolidation = await measureConsolidation(ctx, s, day);

    // Like for like with the before side's write: the same events as schema-2 lines, plain /write.
    const rawDb = 'bench_schema2_raw';
    await createInfluxDb(influx.url, rawDb);
    function* bodies(): Generator<string> {
      for (let i = 0; i < day.count; i += 5_000) {
        const lines: string[] = [];
        for (let j = i; j < Math.min(day.count, i + 5_000); j++) {
          const e = day.logged(j);
          lines.push(toLine(e, e.pageName));
        }
        yield lines.join('\n');
      }
    }
    const w0 = now();
    await writeLines(influx.url, rawDb, bodies(), 4);
    const rawRate = day.count / ((now() - w0) / 1000);
    ctx.detail(`cardinality after: the same ${num(day.count)} events as schema-2 lines, raw /write (5,000 lines, 4 at a time): ${num(rawRate)} points/s`);

    report(ctx, day, before, after, rawRate, processing.events / (processing.consumingMs / 1000), consolidation);
  } finally {
    await influx.stop();
  }
}

function report(
  ctx: BenchContext,
  day: ZipfDay,
  before: VariantResult,
  after: VariantResult,
  rawRate: number,
  processingRate: number,
  c: Awaited<ReturnType<typeof measureConsolidation>>,
): void {
  const shape = `${num(day.count)} events, 150 × 5,000 Zipf`;
  const partial = before.events < day.count ? ` (before: ${num(before.events)} events, stopped at the memory limit)` : '';
  const add = (figure: string, unit: string, ours: number, baseline: number | undefined, goal: Goal) =>
    ctx.add({ stage: 'cardinality', figure, unit, ours, baseline, baselineLabel: BEFORE, goal });
  add(`series, ${shape}${partial}`, 'series', after.series, before.series || undefined, { kind: 'info' });
  add('points influxd refused (past max-series-per-database, 1,000,000 by default)', 'points', after.dropped, before.dropped, { kind: 'info' });
  add('write, raw POST /write of the day (5,000 lines, 4 at a time)', 'points/s', rawRate, before.writeRate, { kind: 'info' });
  add('influxd RSS after the day was written', 'MiB', after.rssMiB, Number.isNaN(before.rssMiB) ? undefined : before.rssMiB, { kind: 'at-most', value: 1024 });
  add(
    `full-day count (after: InfluxEventStore.dailyCounts)${after.countFailure === undefined ? '' : `; after: ${after.countFailure}`}${before.countMs === undefined ? `; before: ${before.countFailure ?? 'no answer'}` : ''}`,
    'ms',
    after.countMs ?? Number.NaN,
    before.countMs,
    { kind: 'info' },
  );
  add(`  page views it counts, of ${num(day.count)} sent`, 'views', after.countedViews ?? Number.NaN, before.countedViews, { kind: 'info' });
  add('  its answer', 'MiB', (after.countBytes ?? Number.NaN) / MiB, before.countBytes === undefined ? undefined : before.countBytes / MiB, { kind: 'info' });
  ctx.add({
    stage: 'cardinality',
    figure: `page-stats processing at the shape (Kafka → InfluxDB + PostgreSQL deltas, request ids)`,
    unit: 'events/s',
    ours: processingRate,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'at-least', value: 100_000 },
  });
  ctx.add({
    stage: 'cardinality',
    figure: `${c.foldHow} after one more minute (${num(c.minuteEvents)} events, ${num(c.foldPending)} deltas): the run; process ${formatMs(c.foldProcessMs)}`,
    unit: 'ms',
    ours: c.foldMs,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'at-most', value: 5_000 },
  });
  ctx.add({
    stage: 'cardinality',
    figure: `page-stats consolidate --recompute (the day, from InfluxDB): ${c.recomputeFailure ?? `the run; process ${formatMs(c.recomputeProcessMs)}`}`,
    unit: 'ms',
    ours: c.recomputeMs,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'info' },
  });
  ctx.add({
    stage: 'cardinality',
    figure: `a whole day of deltas folded at once (${num(c.dayFoldPending)} pending rows)`,
    unit: 'ms',
    ours: c.dayFoldMs,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'info' },
  });
  ctx.detail(
    `cardinality summary | before: ${num(before.events)} events (${num(before.dropped)} refused), ${num(before.series)} series, ${num(before.writeRate)} points/s, RSS ${num(before.rssMiB)} MiB (peak ${num(before.peakRssMiB)}), ` +
      `count ${before.countMs === undefined ? (before.countFailure ?? '—') : formatMs(before.countMs)}, answer ${before.countBytes === undefined ? '—' : `${num(before.countBytes / MiB)} MiB`}, ${num(before.countRows ?? Number.NaN)} rows ` +
      `| after: ${num(after.series)} series, processing ${num(after.writeRate)} events/s, raw /write ${num(rawRate)} points/s, RSS ${num(after.rssMiB)} MiB, ` +
      `count ${formatMs(after.countMs ?? Number.NaN)}, answers ${num((after.countBytes ?? Number.NaN) / MiB)} MiB, ${num(after.countRows ?? Number.NaN)} rows`,
  );
}
