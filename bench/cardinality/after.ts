import type { Kafka } from 'kafkajs';
import { InfluxEventStore } from '../../src/adapters/influx/event-store.js';
import type { DailyCount } from '../../src/ports/event-store.js';
import type { InfluxDB } from '../../test/tooling/influxdb.js';
import type { BenchContext } from '../lib/context.js';
import { DAY_MS, produceEvents } from '../lib/dataset.js';
import { MiB, seriesCardinality, settledRss, startCountingProxy } from '../lib/influx-probe.js';
import { num } from '../lib/report.js';
import { findPid, formatMs, log, now } from '../lib/stats.js';
import { ZIPF_SHAPE, type ZipfDay } from '../lib/zipf-events.js';
import { consumeOnce, type ProcessingSetup } from '../stages/processing.js';
import type { VariantResult } from './before.js';

/**
 * Events per produce-then-consume round. The Kafka mock keeps about 5 MB per partition, ~35,000
 * of these messages (request ids make them ~135 bytes): 25,000 per partition leaves room.
 */
export const ROUND = 25_000 * ZIPF_SHAPE.partitions;

export interface AfterSetup extends ProcessingSetup {
  influx: InfluxDB;
  influxPid: number;
  db: string;
  groupId: string;
}

export interface ProcessingTotals {
  events: number;
  /** consuming time summed over the rounds (group join to last commit, see consumeOnce) */
  consumingMs: number;
  rounds: number;
  /** CPU per event, averaged over the rounds */
  processingCpuUs: number | undefined;
  influxCpuUs: number | undefined;
}

export function setupFor(kafka: Kafka, brokers: string, topic: string, influx: InfluxDB, databaseUrl: string): AfterSetup {
  const influxPid = findPid(influx.dir);
  if (influxPid === undefined) throw new Error('influxd process not found');
  return { kafka, brokers, topic, influxUrl: influx.url, influxPid, databaseUrl, influx, db: 'page_view_bucket', groupId: 'page-stats-processing' };
}

/**
 * Events [from, from + count) of `events` through the real pipeline: produced into Kafka as ingest
 * would (one tracker request per event, with its request id), then consumed by `page-stats
 * processing` into InfluxDB with its deltas recorded in PostgreSQL, in rounds (see ROUND). Only the
 * consuming is timed; every round is a new process in the same consumer group.
 */
export async function processEvents(ctx: BenchContext, s: AfterSetup, events: ZipfDay, already: number): Promise<ProcessingTotals> {
  const totals: ProcessingTotals = { events: events.count, consumingMs: 0, rounds: 0, processingCpuUs: 0, influxCpuUs: 0 };
  let produceMs = 0;
  for (let from = 0; from < events.count; from += ROUND) {
    const count = Math.min(ROUND, events.count - from);
    totals.rounds++;
    if (totals.rounds % 5 === 1) log(`cardinality after: round ${totals.rounds}, events ${num(from)}–${num(from + count)} of ${num(events.count)}`);
    const p0 = now();
    await produceEvents(s.kafka, s.topic, count, (j) => events.event(from + j, true));
    produceMs += now() - p0;
    const run = await consumeOnce(ctx, s, s.groupId, s.db, already + from + count);
    totals.consumingMs += run.ms;
    const weight = count / events.count;
    totals.processingCpuUs = run.cpuUsPerEvent === undefined || totals.processingCpuUs === undefined ? undefined : totals.processingCpuUs + run.cpuUsPerEvent * weight;
    totals.influxCpuUs = run.influxCpuUsPerEvent === undefined || totals.influxCpuUs === undefined ? undefined : totals.influxCpuUs + run.influxCpuUsPerEvent * weight;
  }
  ctx.detail(
    `cardinality after: ${num(events.count)} events processed in ${totals.rounds} round(s): ${formatMs(totals.consumingMs)} consuming ` +
      `(${num(events.count / (totals.consumingMs / 1000))} events/s)` +
      (totals.processingCpuUs === undefined ? '' : `, processing CPU ${totals.processingCpuUs.toFixed(1)} µs/event`) +
      (totals.influxCpuUs === undefined ? '' : `, influxd CPU ${totals.influxCpuUs.toFixed(1)} µs/event`) +
      `; producing them took ${formatMs(produceMs)} (untimed)`,
  );
  return totals;
}

/**
 * After the day went through processing: series, influxd's memory, and the full-day count the
 * recompute uses (`InfluxEventStore.dailyCounts`), with the bytes its queries returned.
 */
export async function measureAfterStore(ctx: BenchContext, s: AfterSetup, day: ZipfDay, processing: ProcessingTotals): Promise<VariantResult> {
  const rss = (await settledRss(s.influxPid)) / MiB;
  const cardinality = await seriesCardinality(s.influx.url, s.db);
  ctx.detail(
    `cardinality after: ${num(cardinality.estimate)} series (SHOW SERIES CARDINALITY; exact ${cardinality.exact === undefined ? '—' : num(cardinality.exact)}), ` +
      `influxd RSS ${num(rss)} MiB after the day was written`,
  );
  const proxy = await startCountingProxy(s.influx.url);
  const store = await InfluxEventStore.open({ url: proxy.url, db: s.db, token: undefined, retention: 'INF', maxPageNames: 10_000, maxRegions: 1_000 });
  const result: VariantResult = {
    events: day.count,
    dropped: 0,
    series: cardinality.estimate,
    seriesExact: cardinality.exact,
    writeRate: day.count / (processing.consumingMs / 1000),
    rssMiB: rss,
    peakRssMiB: Number.NaN,
    countMs: undefined,
    countBytes: undefined,
    countRows: undefined,
  };
  try {
    const queriesBefore = proxy.queries;
    const bytesBefore = proxy.queryBytes;
    const t0 = now();
    let counts: DailyCount[];
    try {
      counts = await store.dailyCounts(day.start, day.start + DAY_MS, 'UTC');
    } catch (err) {
      // reported, not fatal: the rest of the stage still measures
      result.countFailure = `failed after ${formatMs(now() - t0)}: ${err instanceof Error ? err.message : String(err)}`;
      ctx.detail(`cardinality after: InfluxEventStore.dailyCounts of the day ${result.countFailure}`);
      return result;
    }
    const ms = now() - t0;
    const views = counts.reduce((n, c) => n + c.views, 0);
    ctx.detail(
      `cardinality after: InfluxEventStore.dailyCounts of the day ${formatMs(ms)}, ${proxy.queries - queriesBefore} queries, answers ${num((proxy.queryBytes - bytesBefore) / MiB)} MiB, ` +
        `${num(counts.length)} (region, page) rows, ${num(views)} views (processed ${num(day.count)}; ${num(day.pairs)} pairs generated)`,
    );
    if (views !== day.count) throw new Error(`dailyCounts counted ${views} of ${day.count} events`);
    return { ...result, countMs: ms, countBytes: proxy.queryBytes - bytesBefore, countRows: counts.length, countedViews: views };
  } finally {
    await store.close();
    await proxy.close();
  }
}
