import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import type { LoggedEvent } from '../../src/domain/event.js';
import type { ProcessedEvent, WindowRequest } from '../../src/ports/rollup-store.js';
import { dropCopies, RequestWindow, RETRY_WINDOW_MS } from '../../src/services/processing/dedup.js';
import { migratedDatabase } from '../lib/cli-once.js';
import type { BenchContext } from '../lib/context.js';
import { DatabaseCpu } from '../lib/postgres-cpu.js';
import { produceEvents, utcDay } from '../lib/dataset.js';
import { num } from '../lib/report.js';
import { findPid, formatMs, log, median, now } from '../lib/stats.js';
import { ZIPF_SHAPE, ZipfDay } from '../lib/zipf-events.js';
import { consumeOnce } from '../stages/processing.js';

export interface ProcessingVariant {
  rate: number;
  processingCpuUs: number;
  influxCpuUs: number;
  /** PostgreSQL's backends for the run's database (start and group join included) */
  postgresCpuUs: number;
}

/**
 * The request identity in processing, end to end: the same events (the cardinality stage's shape,
 * 25,000 per partition) produced once with request ids — one tracker request per event, so every
 * event is looked up in and added to recent_requests — and once without (messages without `id`
 * and `i` skip the dedup step), each consumed by `page-stats processing` into a new InfluxDB
 * database and PostgreSQL database, alternately.
 */
export async function processingIdentityCost(ctx: BenchContext): Promise<{ plain: ProcessingVariant; ids: ProcessingVariant }> {
  const { options, services } = ctx;
  const n = 25_000 * ZIPF_SHAPE.partitions;
  const [cluster, influx, kafka] = await Promise.all([services.kafka(), services.influx(), services.kafkaClient()]);
  const events = new ZipfDay(n, utcDay(Date.now(), 1), undefined, 21);
  const topics = {
    plain: await services.topic('bench_identity_plain', ZIPF_SHAPE.partitions),
    ids: await services.topic('bench_identity_ids', ZIPF_SHAPE.partitions),
  };
  log(`identity: producing ${num(n)} events without and with request ids`);
  await produceEvents(kafka, topics.plain, n, (i) => events.event(i, false));
  await produceEvents(kafka, topics.ids, n, (i) => events.event(i, true));
  const influxPid = findPid(influx.dir);
  const runs: Record<'plain' | 'ids', ProcessingVariant[]> = { plain: [], ids: [] };
  for (let round = 1; round <= options.rounds; round++) {
    for (const variant of ['plain', 'ids'] as const) {
      const name = `bench_identity_${variant}_${round}`;
      const databaseUrl = await migratedDatabase(services, `identity_${variant}_${round}`);
      const postgres = new DatabaseCpu(databaseUrl);
      const setup = { kafka, brokers: cluster.brokers.join(','), topic: topics[variant], influxUrl: influx.url, influxPid, databaseUrl };
      // `--profile processing`: the first round with ids runs under --cpu-prof
      const r = await consumeOnce(ctx, setup, name, name, n, ctx.options.profile === 'processing' && variant === 'ids' && round === 1);
      const pgUs = (postgres.seconds() / n) * 1e6;
      postgres.stop();
      const v: ProcessingVariant = {
        rate: n / (r.ms / 1000),
        processingCpuUs: r.cpuUsPerEvent ?? Number.NaN,
        influxCpuUs: r.influxCpuUsPerEvent ?? Number.NaN,
        postgresCpuUs: pgUs,
      };
      runs[variant].push(v);
      ctx.detail(
        `identity round ${round}, processing ${variant === 'ids' ? 'with request ids' : 'without ids'}: ${num(v.rate)} events/s (${formatMs(r.ms)}), ` +
          `CPU per event: processing ${v.processingCpuUs.toFixed(1)} µs, influxd ${v.influxCpuUs.toFixed(1)} µs, PostgreSQL ${v.postgresCpuUs.toFixed(1)} µs (its backends for this database, start included)`,
      );
    }
  }
  const summary = (list: ProcessingVariant[]): ProcessingVariant => ({
    rate: median(list.map((r) => r.rate)),
    processingCpuUs: median(list.map((r) => r.processingCpuUs)),
    influxCpuUs: median(list.map((r) => r.influxCpuUs)),
    postgresCpuUs: median(list.map((r) => r.postgresCpuUs)),
  });
  return { plain: summary(runs.plain), ids: summary(runs.ids) };
}

const toProcessed = (e: LoggedEvent): ProcessedEvent => ({
  partition: e.partition,
  offset: e.offset,
  timestamp: e.timestamp,
  region: e.region,
  pageName: e.pageName,
  bot: e.bot,
});

/**
 * The dedup step alone, as processing runs it per batch of 2,000 events, in the bench process
 * against PostgreSQL: the partition's window in memory, dropCopies and the batch's row of
 * generated ids (inside recordProcessed's transaction), against recordProcessed of the same
 * batch without ids.
 * Alternate batches, separate partitions; wall time per event.
 */
export async function dedupStepCost(ctx: BenchContext, batches: number): Promise<{ plainUs: number; idsUs: number }> {
  // migrated by this checkout's store (a `--src` run's older migrate would lack recent_requests)
  const store = new SqlRollupStore(openPostgres(await ctx.services.postgres('identity_step')));
  await store.migrate();
  const size = 2_000;
  const events = new ZipfDay(batches * size, utcDay(Date.now(), 1), undefined, 33);
  const times = { plain: [] as number[], ids: [] as number[] };
  const window = new RequestWindow(async (p) => await store.recentBatches(p));
  try {
    for (let b = 0; b < batches; b++) {
      for (const variant of ['plain', 'ids'] as const) {
        const partition = (variant === 'ids' ? 100 : 0) + (b % 12);
        const batch: LoggedEvent[] = [];
        for (let i = b * size; i < (b + 1) * size; i++) {
          const e = events.event(i, variant === 'ids');
          batch.push({ ...e, partition, offset: String(Math.floor(b / 12) * size + (i - b * size)) });
        }
        const t0 = now();
        if (variant === 'ids') {
          // as processing runs it: the partition's window in memory (rebuilt from the store at its first batch)
          const at = Date.now();
          const ids = await window.of(partition, Number(batch[0]!.offset));
          const { kept, requests } = dropCopies(batch, (id, p) => {
            const base = ids.get(id);
            return base === undefined ? undefined : { partition: p, base };
          });
          const generated: WindowRequest[] = requests.map((r) => [r.requestId, r.base]);
          await store.recordProcessed(kept.map(toProcessed), { generated: new Map([[partition, { at, requests: generated }]]), windowMs: RETRY_WINDOW_MS });
          window.recorded(partition, Number(batch.at(-1)!.offset), at, generated);
        } else {
          await store.recordProcessed(batch.map(toProcessed));
        }
        times[variant].push((now() - t0) / size);
      }
    }
  } finally {
    await store.close();
  }
  // the first batches warm up connections and plans
  const steady = (list: number[]): number => median(list.slice(Math.min(5, list.length - 1))) * 1000;
  const result = { plainUs: steady(times.plain), idsUs: steady(times.ids) };
  ctx.detail(
    `identity: recordProcessed per batch of ${size}, ${batches} batches each (${num(batches * size)} request ids added): ` +
      `without ids ${result.plainUs.toFixed(1)} µs/event, with the dedup step ${result.idsUs.toFixed(1)} µs/event (median over batches, wall time)`,
  );
  return result;
}
