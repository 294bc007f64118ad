import type { Kafka } from 'kafkajs';
import { InfluxEventStore } from '../../src/adapters/influx/event-store.js';
import type { DailyCount } from '../../src/ports/event-store.js';
import type { InfluxDB } from '../../test/tooling/influxdb.js';
import type { BenchContext } from '../lib/context.js';
import { DatabaseCpu } from '../lib/postgres-cpu.js';
import { DAY_MS, produceEvents } from '../lib/dataset.js';
import { MiB, RssWatch, seriesCardinality, settledRss, startCountingProxy } from '../lib/influx-probe.js';
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
  /** CPU per event over the rounds: processing, influxd, and PostgreSQL's backends of its database (start included) */
  processingCpuUs: number;
  influxCpuUs: number;
  postgresCpuUs: number;
  /** when the last round was committed (epoch ms): its request ids expire RETRY_WINDOW_MS later */
  endedAt: number;
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
export async function processEvents(
  ctx: BenchContext,
  s: AfterSetup,
  events: ZipfDay,
  already: number,
  afterRound?: (round: number) => Promise<void>,
): Promise<ProcessingTotals> {
  const totals: ProcessingTotals = { events: events.count, consumingMs: 0, rounds: 0, processingCpuUs: 0, influxCpuUs: 0, postgresCpuUs: 0, endedAt: 0 };
  let produceMs = 0;
  const cpu = { processing: 0, influx: 0, postgres: 0 };
  const postgres = new DatabaseCpu(s.databaseUrl);
  for (let from = 0; from < events.count; from += ROUND) {
    const count = Math.min(ROUND, events.count - from);
    totals.rounds++;
    if (totals.rounds % 5 === 1) log(`cardinality after: round ${totals.rounds}, events ${num(from)}–${num(from + count)} of ${num(events.count)}`);
    const p0 = now();
    await produceEvents(s.kafka, s.topic, count, (j) => events.event(from + j, true));
    produceMs += now() - p0;
    const pg0 = postgres.seconds();
    const expected = already + from + count;
    const run = await consumeOnce(ctx, s, s.groupId, s.db, expected);
    cpu.postgres += postgres.seconds() - pg0;
    totals.endedAt = Date.now();
    totals.consumingMs += run.ms;
    // consumeOnce divides by the group's whole count (`expected`): back to CPU seconds of this round
    cpu.processing += ((run.cpuUsPerEvent ?? Number.NaN) * expected) / 1e6;
    cpu.influx += ((run.influxCpuUsPerEvent ?? Number.NaN) * expected) / 1e6;
    await afterRound?.(totals.rounds);
  }
  postgres.stop();
  totals.processingCpuUs = (cpu.processing / events.count) * 1e6;
  totals.influxCpuUs = (cpu.influx / events.count) * 1e6;
  totals.postgresCpuUs = (cpu.postgres / events.count) * 1e6;
  ctx.detail(
    `cardinality after: ${num(events.count)} events processed in ${totals.rounds} round(s): ${formatMs(totals.consumingMs)} consuming ` +
      `(${num(events.count / (totals.consumingMs / 1000))} events/s); CPU per event: processing ${totals.processingCpuUs.toFixed(1)} µs, ` +
      `influxd ${totals.influxCpuUs.toFixed(1)} µs, PostgreSQL ${totals.postgresCpuUs.toFixed(1)} µs (its backends for this database, start and join included); ` +
      `producing them took ${formatMs(produceMs)} (untimed)`,
  );
  return totals;
}

/**
 * After the day went through processing: series, influxd's memory, and the full-day count the
 * recompute uses (`InfluxEventStore.dailyCounts`), with the bytes its queries returned.
 */
export async function measureAfterStore(ctx: BenchContext, s: AfterSetup, day: ZipfDay, processing: ProcessingTotals): Promise<VariantResult> {
  const rss = (await settledRss(s.influxPid)) / MiB;
  const watch = new RssWatch(s.influxPid, Number.POSITIVE_INFINITY, () => {});
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
      const reason = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
      result.countFailure = `failed after ${formatMs(now() - t0)}: ${reason.replace(/ at http:\/\/\S+/, '')}`;
      ctx.detail(`cardinality after: InfluxEventStore.dailyCounts of the day ${result.countFailure}`);
      const replay = await hourlyReads(s.influx.url, s.db, day.start);
      ctx.detail(
        `cardinality after: its InfluxQL replayed without the client's 10 s limit (24 hourly reads, 4 at a time, as dailyCounts sends them): ${formatMs(replay.ms)}, ` +
          `slowest read ${formatMs(replay.slowestMs)}, answers ${num(replay.bytes / MiB)} MiB, ${num(replay.points)} points`,
      );
      return Object.assign(result, { countReplayMs: replay.ms, countBytes: replay.bytes, slowestReadMs: replay.slowestMs, countedViews: replay.points });
    }
    const ms = now() - t0;
    const views = counts.reduce((n, c) => n + c.views, 0);
    ctx.detail(
      `cardinality after: InfluxEventStore.dailyCounts of the day ${formatMs(ms)}, ${proxy.queries - queriesBefore} queries, answers ${num((proxy.queryBytes - bytesBefore) / MiB)} MiB, ` +
        `${num(counts.length)} (region, page) rows, ${num(views)} views (processed ${num(day.count)}; ${num(day.pairs)} pairs generated)`,
    );
    if (views !== day.count) throw new Error(`dailyCounts counted ${views} of ${day.count} events`);
    return Object.assign(result, { countMs: ms, countBytes: proxy.queryBytes - bytesBefore, countRows: counts.length, countedViews: views });
  } finally {
    result.peakRssMiB = watch.peak / MiB;
    watch.stop();
    await store.close();
    await proxy.close();
  }
}

/**
 * What dailyCounts sends for a UTC day (event-store.ts): per hour, every point's `t` and `page`,
 * grouped by region; 4 hours at a time; here without a time limit. Times, bytes and points read.
 */
async function hourlyReads(influxUrl: string, db: string, dayStart: number): Promise<{ ms: number; slowestMs: number; bytes: number; points: number }> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const hours = Array.from({ length: 24 }, (_, h) => dayStart + h * 3_600_000);
  let next = 0;
  const totals = { ms: 0, slowestMs: 0, bytes: 0, points: 0 };
  const t0 = now();
  const worker = async (): Promise<void> => {
    while (next < hours.length) {
      const a = hours[next++]!;
      const q = `SELECT "t", "page" FROM "page_views" WHERE time >= '${iso(a)}' AND time < '${iso(a + 3_600_000)}' GROUP BY "region"`;
      const r0 = now();
      const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q, epoch: 'ms', chunked: 'true', chunk_size: '10000' })}`);
      const text = await res.text();
      totals.slowestMs = Math.max(totals.slowestMs, now() - r0);
      if (res.status !== 200) throw new Error(`InfluxDB query failed: ${res.status} ${text.slice(0, 200)}`);
      totals.bytes += Buffer.byteLength(text);
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        const chunk = JSON.parse(line) as { results?: Array<{ series?: Array<{ values?: unknown[] }> }> };
        for (const r of chunk.results ?? []) for (const ser of r.series ?? []) totals.points += ser.values?.length ?? 0;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  totals.ms = now() - t0;
  return totals;
}
