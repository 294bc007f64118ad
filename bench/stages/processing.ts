import type { Kafka } from 'kafkajs';
import { MEASUREMENT } from '../../src/adapters/influx/line-protocol.js';
import { migratedDatabase } from '../lib/cli-once.js';
import type { BenchContext } from '../lib/context.js';
import { countPoints, createInfluxDb, DAY_MS, eventAt, lineBodies, loggedEventAt, logPosition, produceEvents, utcDay, writeLines } from '../lib/dataset.js';
import { spawnCli } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { cpuSeconds, findPid, formatMs, log, median, now, sleep } from '../lib/stats.js';

export interface ProcessingSetup {
  kafka: Kafka;
  brokers: string;
  topic: string;
  influxUrl: string;
  /**
   * PostgreSQL with the rollup tables: processing records per-event deltas there. A partition's
   * recorded position survives the process, so a new consumer group reading the topic again from
   * the start needs a database of its own, or it would skip recording what the last one recorded.
   */
  databaseUrl: string;
  /** influxd's process, to report its CPU time per event */
  influxPid: number | undefined;
}

export interface ProcessingRun {
  events: number;
  /** from the group join to the last offset committed */
  ms: number;
  joinMs: number;
  /** event store writes (batches) and their mean duration */
  writes: number;
  writeMs: number;
  /** processing process and influxd CPU time per event, microseconds */
  cpuUsPerEvent: number | undefined;
  influxCpuUsPerEvent: number | undefined;
}

const perEvent = (before: number | undefined, after: number | undefined, events: number): number | undefined =>
  before === undefined || after === undefined ? undefined : ((after - before) / events) * 1e6;

/**
 * Runs `page-stats processing` (its own process, a new consumer group) until it has committed
 * `expected` events of the topic, and times it from the moment the group is joined (`/readyz` turns
 * 200) to the moment the last offset is committed, which processing does only after InfluxDB
 * acknowledged the write. Joining a group on the mock takes about 3 s; that is not processing.
 */
export async function consumeOnce(
  ctx: BenchContext,
  s: ProcessingSetup,
  groupId: string,
  db: string,
  expected: number,
  profile = false,
): Promise<ProcessingRun> {
  const started = now();
  const proc = await spawnCli(
    'processing',
    {
      KAFKA_BROKERS: s.brokers,
      KAFKA_TOPIC: s.topic,
      KAFKA_GROUP_ID: groupId,
      KAFKA_SESSION_TIMEOUT: '10s',
      INFLUX_URL: s.influxUrl,
      INFLUX_DB: db,
      DATABASE_URL: s.databaseUrl,
      ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef',
    },
    profile ? ctx.nodeArgs('processing') : [],
  );
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const res = await fetch(`${proc.url}/readyz`).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`processing did not join the group:\n${proc.output()}`);
      await sleep(10);
    }
    const t0 = now();
    const cpu0 = cpuSeconds(proc.child.pid);
    const influx0 = cpuSeconds(s.influxPid);
    for (;;) {
      const { committed } = await logPosition(s.kafka, s.topic, groupId);
      if (committed >= expected) break;
      if (Date.now() > deadline + 600_000) throw new Error(`processing committed ${committed} of ${expected}:\n${proc.output()}`);
      await sleep(20);
    }
    const t1 = now();
    const cpu1 = cpuSeconds(proc.child.pid);
    const influx1 = cpuSeconds(s.influxPid);
    const metrics = await (await fetch(`${proc.url}/metrics`, { headers: { authorization: 'Bearer bench-admin-token-0123456789abcdef' } })).text();
    const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    const writes = metric('page_stats_processing_batch_seconds_count');
    const writeSeconds = metric('page_stats_processing_batch_seconds_sum');
    return {
      writes,
      writeMs: (writeSeconds / writes) * 1000,
      events: expected,
      ms: t1 - t0,
      joinMs: t0 - started,
      cpuUsPerEvent: perEvent(cpu0, cpu1, expected),
      influxCpuUsPerEvent: perEvent(influx0, influx1, expected),
    };
  } finally {
    await proc.stop();
    if (profile) ctx.reportProfile('processing');
  }
}

/**
 * processing-service: events already in Kafka (the JSON ingest writes, without request ids: the
 * identity stage measures what they add) consumed by `page-stats processing` into InfluxDB, its
 * per-event deltas recorded in PostgreSQL. Baseline: the same events as line protocol, POSTed
 * straight to /write in the same batch size (5,000 lines) and with the same parallelism.
 */
export async function benchProcessing(ctx: BenchContext): Promise<void> {
  const { options, services } = ctx;
  const n = options.processingEvents;
  const partitions = options.processingPartitions;
  if (n > partitions * 50_000) {
    throw new Error(`--processing-events ${n}: the Kafka mock keeps ~60,000 events per partition; use at most ${partitions * 50_000} or more partitions`);
  }
  const [cluster, influx, kafka] = await Promise.all([services.kafka(), services.influx(), services.kafkaClient()]);
  const topic = await services.topic('bench_processing', partitions);
  const day = utcDay(Date.now(), 1);
  const influxPid = findPid(influx.dir);
  const setup = { kafka, brokers: cluster.brokers.join(','), topic, influxUrl: influx.url, influxPid };

  log(`processing: producing ${num(n)} events into ${topic} (${partitions} partitions)`);
  const p0 = now();
  await produceEvents(kafka, topic, n, (i) => eventAt(i, n, day));
  ctx.detail(`processing setup: produced ${num(n)} events in ${formatMs(now() - p0)} (${num(n / ((now() - p0) / 1000))} events/s, kafkajs from the bench)`);

  // The same events as the lines processing writes (partition and offset as a round-robin producer gives them).
  const bodies = [...lineBodies(n, 5_000, (i) => loggedEventAt(i, n, day, partitions))];
  const ours: ProcessingRun[] = [];
  const raw: number[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const rawDb = `bench_raw_${round}`;
    await createInfluxDb(influx.url, rawDb);
    log(`processing round ${round}/${options.rounds}: raw /write, then page-stats processing`);
    const w0 = now();
    const i0 = cpuSeconds(influxPid);
    await writeLines(influx.url, rawDb, bodies, 3);
    raw.push(now() - w0);
    const rawInflux = perEvent(i0, cpuSeconds(influxPid), n);
    ctx.detail(
      `processing round ${round}, raw /write of ${num(n)} lines: ${formatMs(raw.at(-1)!)} (${num(n / (raw.at(-1)! / 1000))} events/s)` +
        (rawInflux === undefined ? '' : `; influxd CPU ${rawInflux.toFixed(1)} µs/event`),
    );

    const db = `bench_processing_${round}`;
    const databaseUrl = await migratedDatabase(services, `processing_${round}`);
    const run = await consumeOnce(ctx, { ...setup, databaseUrl }, `bench_processing_${round}`, db, n, round === options.rounds);
    ours.push(run);
    const stored =
      (await countPoints(influx.url, db, MEASUREMENT.view, day, day + DAY_MS)) + (await countPoints(influx.url, db, MEASUREMENT.bot, day, day + DAY_MS));
    ctx.detail(
      `processing round ${round}, page-stats processing: ${num(n)} events in ${formatMs(run.ms)} (${num(n / (run.ms / 1000))} events/s) ` +
        `after ${formatMs(run.joinMs)} start and group join; ${num(stored)} points stored; ${run.writes} batches, ${run.writeMs.toFixed(1)} ms per write` +
        (run.cpuUsPerEvent === undefined ? '' : `; processing CPU ${run.cpuUsPerEvent.toFixed(1)} µs/event`) +
        (run.influxCpuUsPerEvent === undefined ? '' : `, influxd CPU ${run.influxCpuUsPerEvent.toFixed(1)} µs/event`),
    );
    if (stored !== n) throw new Error(`processing stored ${stored} of ${n} events`);
  }
  const oursRate = n / (median(ours.map((r) => r.ms)) / 1000);
  const rawRate = n / (median(raw) / 1000);
  ctx.add({
    stage: 'processing',
    figure: `Kafka → InfluxDB + PostgreSQL deltas, ${num(n)} events, ${partitions} partitions`,
    unit: 'events/s',
    ours: oursRate,
    baseline: rawRate,
    baselineLabel: 'raw POST /write',
    goal: { kind: 'ratio-at-least', value: 0.7 },
  });
  ctx.add({
    stage: 'processing',
    figure: 'same, absolute',
    unit: 'events/s',
    ours: oursRate,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'at-least', value: 100_000 },
  });
}
