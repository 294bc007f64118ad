import { startInfluxDB } from '../../test/tooling/influxdb.js';
import { measureAfterStore, processEvents, ROUND, setupFor, type ProcessingTotals } from '../cardinality/after.js';
import { measureBefore, type VariantResult } from '../cardinality/before.js';
import { foldAfterEachRound, measureConsolidation, openRollups, type ConsolidationFigures } from '../cardinality/consolidation.js';
import { migratedDatabase } from '../lib/cli-once.js';
import type { BenchContext } from '../lib/context.js';
import { createInfluxDb, lineBodies, utcDay, writeLines } from '../lib/dataset.js';
import { MiB } from '../lib/influx-probe.js';
import { num, type Goal } from '../lib/report.js';
import { formatMs, log, median, now } from '../lib/stats.js';
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
    const rollups = await openRollups(s);
    try {
      const roundFolds = { ms: [] as number[], pending: [] as number[] };
      const processing = await processEvents(ctx, s, day, 0, foldAfterEachRound(rollups.store, roundFolds));
      const after = await measureAfterStore(ctx, s, day, processing);
      const consolidation = await measureConsolidation(ctx, s, day, rollups.store, processing.endedAt, roundFolds);
      const rawRate = await rawSchema2Write(ctx, influx.url, day);
      report(ctx, day, before, after, rawRate, processing, consolidation);
    } finally {
      await rollups.close();
    }
  } finally {
    await influx.stop();
  }
}

/** Like for like with the before side's write: the same events as schema-2 lines, plain /write. */
async function rawSchema2Write(ctx: BenchContext, influxUrl: string, day: ZipfDay): Promise<number> {
  const rawDb = 'bench_schema2_raw';
  await createInfluxDb(influxUrl, rawDb);
  const w0 = now();
  await writeLines(
    influxUrl,
    rawDb,
    lineBodies(day.count, 5_000, (i) => day.logged(i)),
    4,
  );
  const rawRate = day.count / ((now() - w0) / 1000);
  ctx.detail(`cardinality after: the same ${num(day.count)} events as schema-2 lines, raw /write (5,000 lines, 4 at a time): ${num(rawRate)} points/s`);
  return rawRate;
}

function report(
  ctx: BenchContext,
  day: ZipfDay,
  before: VariantResult,
  after: VariantResult,
  rawRate: number,
  processing: ProcessingTotals,
  c: ConsolidationFigures,
): void {
  const shape = `${num(day.count)} events, 150 × 5,000 Zipf`;
  const partial = before.events < day.count ? ` (before: ${num(before.events)} events, stopped at the memory limit)` : '';
  const add = (figure: string, unit: string, ours: number, baseline: number | undefined, goal: Goal) =>
    ctx.add({ stage: 'cardinality', figure, unit, ours, baseline, baselineLabel: BEFORE, goal });
  const alone = (figure: string, unit: string, ours: number, goal: Goal) =>
    ctx.add({ stage: 'cardinality', figure, unit, ours, baseline: undefined, baselineLabel: '', goal });
  add(`series, ${shape}${partial}`, 'series', after.series, before.series || undefined, { kind: 'info' });
  add('points influxd refused (past max-series-per-database, 1,000,000 by default)', 'points', after.dropped, before.dropped, { kind: 'info' });
  add('write, raw POST /write of the day (5,000 lines, 4 at a time)', 'points/s', rawRate, before.writeRate, { kind: 'info' });
  add('influxd RSS after the day was written', 'MiB', after.rssMiB, Number.isNaN(before.rssMiB) ? undefined : before.rssMiB, { kind: 'at-most', value: 1024 });
  add('influxd peak RSS (before: writing and counting; after: counting)', 'MiB', after.peakRssMiB, before.peakRssMiB, { kind: 'info' });
  const afterCount =
    after.countMs !== undefined ? 'InfluxEventStore.dailyCounts' : `dailyCounts ${after.countFailure ?? 'failed'}; its reads without the 10 s limit`;
  add(
    `full-day count (after: ${afterCount})${before.countMs === undefined ? `; before: ${before.countFailure ?? 'no answer'}` : ''}`,
    'ms',
    after.countMs ?? after.countReplayMs ?? Number.NaN,
    before.countMs,
    { kind: 'info' },
  );
  if (after.slowestReadMs !== undefined)
    alone('  after: its slowest hourly read (the client allows 10 s)', 'ms', after.slowestReadMs, { kind: 'at-most', value: 10_000 });
  add(`  page views it counts, of ${num(day.count)} sent`, 'views', after.countedViews ?? Number.NaN, before.countedViews, { kind: 'info' });
  add('  its answer', 'MiB', (after.countBytes ?? Number.NaN) / MiB, before.countBytes === undefined ? undefined : before.countBytes / MiB, { kind: 'info' });
  alone(
    'page-stats processing at the shape (Kafka → InfluxDB + PostgreSQL deltas, request ids)',
    'events/s',
    processing.events / (processing.consumingMs / 1000),
    {
      kind: 'at-least',
      value: 100_000,
    },
  );
  alone('  CPU per event: processing + influxd + postgres', 'µs', processing.processingCpuUs + processing.influxCpuUs + processing.postgresCpuUs, {
    kind: 'info',
  });
  alone(
    `${c.foldHow} after one more minute (${num(c.minuteEvents)} events, ${num(c.foldPending)} deltas): the run` +
      (Number.isNaN(c.foldProcessMs) ? '' : `; process ${formatMs(c.foldProcessMs)}`),
    'ms',
    c.foldMs,
    { kind: 'at-most', value: 5_000 },
  );
  alone(`a fold after each processing round (${num(median(c.roundFolds.pending))} deltas, ${num(ROUND)} events): median`, 'ms', median(c.roundFolds.ms), {
    kind: 'info',
  });
  alone(
    `page-stats consolidate --recompute (the day, from InfluxDB): ${c.recomputeFailure ?? `the run; process ${formatMs(c.recomputeProcessMs)}`}`,
    'ms',
    c.recomputeMs,
    { kind: 'info' },
  );
  ctx.detail(
    `cardinality summary | before: ${num(before.events)} events (${num(before.dropped)} refused), ${num(before.series)} series, ${num(before.writeRate)} points/s, ` +
      `RSS ${num(before.rssMiB)} MiB (peak ${num(before.peakRssMiB)}), count ${before.countMs === undefined ? (before.countFailure ?? '—') : formatMs(before.countMs)}, ` +
      `answer ${before.countBytes === undefined ? '—' : `${num(before.countBytes / MiB)} MiB`}, ${num(before.countRows ?? Number.NaN)} rows, ${num(before.countedViews ?? Number.NaN)} views ` +
      `| after: ${num(after.series)} series, processing ${num(after.writeRate)} events/s, raw /write ${num(rawRate)} points/s, RSS ${num(after.rssMiB)} MiB, ` +
      `count ${after.countMs === undefined ? `failed, reads alone ${formatMs(after.countReplayMs ?? Number.NaN)}` : formatMs(after.countMs)}, ` +
      `answers ${num((after.countBytes ?? Number.NaN) / MiB)} MiB, ${num(after.countRows ?? Number.NaN)} rows`,
  );
}
