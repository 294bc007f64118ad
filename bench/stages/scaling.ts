import { MEASUREMENT } from '../../src/adapters/influx/line-protocol.js';
import { migratedDatabase } from '../lib/cli-once.js';
import type { BenchContext } from '../lib/context.js';
import { countPoints, DAY_MS, eventAt, isoDate, logPosition, PAGES, pageViewsAmong, produceEvents, REGIONS, utcDay } from '../lib/dataset.js';
import { runLoad } from '../lib/load.js';
import { spawnCli } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { ADMIN_TOKEN } from '../lib/services.js';
import { findPid, formatMs, log, median, now } from '../lib/stats.js';
import { capturedCountQuery, consolidatorFor, timedQuery, timedRun } from './consolidation.js';
import { consumeOnce, type ProcessingSetup } from './processing.js';

const MULTIPLES = [1, 10, 100];
/** Events per produce-then-consume round: the mock keeps ~60,000 of our events per partition. */
const PARTITIONS = 12;
const ROUND = 40_000 * PARTITIONS;

const rate = (events: number, ms: number): string => `${formatMs(ms)} (${num(events / (ms / 1000))}/s)`;

/** 100 events per request, as a batching tracker or a server-side sender posts them. */
function batchBodies(now: number): string[] {
  return Array.from({ length: 10 }, (_, b) =>
    JSON.stringify(
      Array.from({ length: 100 }, (_, i) => ({ timestamp: now - i * 100, region: REGIONS[(b * 100 + i) % REGIONS.length], pageName: PAGES[i % PAGES.length] })),
    ),
  );
}

/**
 * How cost grows with the event volume: ingest, processing, consolidation and query at 1×, 10×
 * and 100× `--scale-base` events. Processing produces and consumes in rounds of at most ROUND
 * events, because the Kafka mock truncates a partition past ~5 MB; only the consuming is timed
 * (from the group join to the last commit), summed over the rounds. Consolidation rolls up the
 * day processing wrote; query reads that day back through the API.
 */
export async function benchScaling(ctx: BenchContext): Promise<void> {
  const { options, services } = ctx;
  const volumes = MULTIPLES.map((m) => m * options.scaleBase);
  ctx.scaling.volumes = volumes;
  const [cluster, influx, kafka] = await Promise.all([services.kafka(), services.influx(), services.kafkaClient()]);
  const brokers = cluster.brokers.join(',');
  const row = (stage: string): string[] => {
    const cells: string[] = [];
    ctx.scaling.rows.push({ stage, cells });
    return cells;
  };

  // ingest: page-stats ingest, 100 events per request, until the volume is acknowledged
  const ingestTopic = await services.topic('bench_scale_ingest', 3);
  const ingest = await spawnCli('ingest', { KAFKA_BROKERS: brokers, KAFKA_TOPIC: ingestTopic, RATE_LIMIT_PER_MINUTE: '0' });
  const ingestCells = row('ingest: POST /page-view (100 events per request) → Kafka');
  try {
    let logged = 0;
    for (const v of volumes) {
      log(`scaling: ingest ${num(v)} events`);
      const r = await runLoad({
        url: `${ingest.url}/page-view`,
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        bodies: batchBodies(Date.now()),
        connections: 20,
        amount: v / 100,
        expectStatus: 202,
      });
      const { end } = await logPosition(kafka, ingestTopic, 'bench-none');
      const stored = end - logged;
      logged = end;
      if (r.ok * 100 !== v || stored < v) throw new Error(`ingest at ${v}: ${r.ok * 100} acknowledged, ${stored} in Kafka`);
      ingestCells.push(rate(v, r.elapsedMs));
      ctx.detail(`scaling ingest ${num(v)}: ${rate(v, r.elapsedMs)}, p99 ${r.p99} ms per 100-event request, ${num(stored)} in Kafka`);
    }
  } finally {
    await ingest.stop();
  }

  // processing: rounds of produce (untimed), then page-stats processing until committed (timed)
  const processingCells = row(`processing: Kafka (${PARTITIONS} partitions) → InfluxDB`);
  const days = volumes.map((_, i) => utcDay(Date.now(), 40 - i * 10));
  const setup = (topic: string, databaseUrl: string): ProcessingSetup => ({
    kafka,
    brokers,
    topic,
    influxUrl: influx.url,
    databaseUrl,
    influxPid: findPid(influx.dir),
  });
  for (const [i, v] of volumes.entries()) {
    const topic = await services.topic(`bench_scale_p${i}`, PARTITIONS);
    const db = `bench_scale_p${i}`;
    // processing records its deltas in PostgreSQL: a database per volume (a new topic, offsets from 0)
    const deltas = await migratedDatabase(services, `scale_p${i}`);
    let consumingMs = 0;
    let rounds = 0;
    for (let from = 0; from < v; from += ROUND) {
      const count = Math.min(ROUND, v - from);
      log(`scaling: processing ${num(v)}, round ${++rounds}: producing ${num(count)}`);
      await produceEvents(kafka, topic, count, (j) => eventAt(from + j, v, days[i]!));
      consumingMs += (await consumeOnce(ctx, setup(topic, deltas), `bench_scale_p${i}`, db, from + count)).ms;
    }
    const stored =
      (await countPoints(influx.url, db, MEASUREMENT.view, days[i]!, days[i]! + DAY_MS)) +
      (await countPoints(influx.url, db, MEASUREMENT.bot, days[i]!, days[i]! + DAY_MS));
    if (stored !== v) throw new Error(`processing at ${v}: ${stored} points stored`);
    processingCells.push(rate(v, consumingMs));
    ctx.detail(`scaling processing ${num(v)}: ${rate(v, consumingMs)} consuming, in ${rounds} round(s); ${num(stored)} points stored`);
  }

  // consolidation of each processed day, against its count query alone
  const databaseUrl = await services.postgres('scaling');
  const consolidationCells = row('consolidation: one day → PostgreSQL');
  const queryBaselineCells = row('  (its InfluxQL count query alone)');
  for (const [i, v] of volumes.entries()) {
    const day = isoDate(days[i]!);
    const query = await capturedCountQuery(influx.url, `bench_scale_p${i}`, databaseUrl, day);
    const c = await consolidatorFor(influx.url, `bench_scale_p${i}`, databaseUrl);
    try {
      const first = await timedRun(c, day);
      const views = (await (await c.adapters.rollupStore()).query({ granularity: 'daily', start: days[i]!, end: days[i]! + DAY_MS })).reduce(
        (n, r) => n + r.views,
        0,
      );
      if (views !== pageViewsAmong(v)) throw new Error(`consolidation at ${v}: ${views} views, expected ${pageViewsAmong(v)}`);
      const ours: number[] = [];
      const raw: number[] = [];
      for (let r = 0; r < 2; r++) {
        raw.push(await timedQuery(query));
        ours.push((await timedRun(c, day)).ms);
      }
      consolidationCells.push(formatMs(median(ours)));
      queryBaselineCells.push(formatMs(median(raw)));
      ctx.detail(
        `scaling consolidation ${num(v)}: ${formatMs(median(ours))} (count query alone ${formatMs(median(raw))}), ${first.result.dailyRows} daily rows`,
      );
    } finally {
      await c.adapters.close();
    }
  }

  // query: the consolidated day through the admin API
  const queryTopic = await services.topic('bench_scale_query', 3);
  const api = await spawnCli('ingest', { KAFKA_BROKERS: brokers, KAFKA_TOPIC: queryTopic, DATABASE_URL: databaseUrl, ADMIN_TOKEN });
  const queryCells = row('query: GET region-daily for that day (API, p50 / p99)');
  try {
    for (const [i, v] of volumes.entries()) {
      const params = new URLSearchParams({ startTime: new Date(days[i]!).toISOString(), endTime: new Date(days[i]! + DAY_MS).toISOString() });
      const load = {
        url: `${api.url}/aggregated-data/region-daily?${params}`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        connections: 1,
        expectStatus: 200,
      };
      await runLoad({ ...load, durationSeconds: 1 });
      const t0 = now();
      const r = await runLoad({ ...load, durationSeconds: 3 });
      queryCells.push(`${r.p50} / ${r.p99} ms`);
      ctx.detail(`scaling query ${num(v)}: p50 ${r.p50} ms, p99 ${r.p99} ms over ${r.ok} requests in ${formatMs(now() - t0)}`);
    }
  } finally {
    await api.stop();
  }
}
