import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createKafka, createTopic } from '../adapters/kafka/client.js';
import { backoff } from '../domain/backoff.js';
import { AppError } from '../domain/errors.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { Consolidator, type ConsolidationRequest, type ConsolidatorSettings } from '../services/consolidator/consolidator.js';
import { Adapters } from './adapters.js';
import type { Config } from './config.js';
import { unavailableService } from './unavailable.js';

export function consolidatorSettings(config: Config): ConsolidatorSettings {
  return {
    timeZone: config.reportTimeZone,
    weekStart: config.weekStart,
    lateArrivalWindowMs: config.lateArrivalWindowMs,
    recomputeIntervalMs: config.recomputeIntervalMs,
  };
}

/**
 * The consolidator on the configured stores, its tables migrated (unless the caller did): what the
 * consolidator role, one-shot runs, the demo and the benchmarks use.
 */
export async function openConsolidator(
  config: Config,
  adapters: Adapters,
  logger: Logger,
  registry = new Registry(),
  options: { clock?: Clock; migrated?: boolean } = {},
): Promise<Consolidator> {
  const rollups = await adapters.rollupStore();
  if (!options.migrated) await rollups.migrate();
  return new Consolidator(await adapters.eventStore(), rollups, options.clock ?? systemClock, consolidatorSettings(config), logger, registry);
}

/**
 * `page-stats consolidate`: one run, then exit — non-zero on failure, as a Kubernetes CronJob
 * expects, so the job is retried and the next run repairs the window.
 */
export async function runConsolidateOnce(config: Config, logger: Logger, range: ConsolidationRequest): Promise<number> {
  const adapters = new Adapters(config, logger);
  const running = adapters.runningServer();
  if (running !== undefined) return await consolidateThrough(running, range);
  try {
    const consolidator = await openConsolidator(config, adapters, logger);
    const result = await consolidator.run(range);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    logger.error({ err }, 'consolidate_failed');
    const details = err instanceof AppError ? err.details.map((d) => `  ${d}\n`).join('') : '';
    process.stderr.write(`page-stats consolidate: ${err instanceof Error ? err.message : String(err)}\n${details}`);
    return 1;
  } finally {
    await adapters.close();
  }
}

/** Embedded mode with the server running: ask it to consolidate, as it owns the database. */
async function consolidateThrough(server: { url: string; token: string }, range: ConsolidationRequest): Promise<number> {
  const query = new URLSearchParams();
  if (range.from !== undefined) query.set('from', range.from);
  if (range.to !== undefined) query.set('to', range.to);
  if (range.recompute) query.set('recompute', 'true');
  try {
    const res = await fetch(`${server.url}/admin/consolidate?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
    });
    const text = await res.text();
    if (res.ok) {
      process.stdout.write(`${text}\n`);
      return 0;
    }
    process.stderr.write(`page-stats consolidate: the running server answered ${res.status}: ${text}\n`);
  } catch (err) {
    process.stderr.write(`page-stats consolidate: the running server at ${server.url} did not answer (${String(err)})\n`);
  }
  return 1;
}

/** `page-stats migrate`: create or upgrade the rollup tables (a Kubernetes Job before rollout). */
export async function runMigrate(config: Config, logger: Logger, options: { waitMs?: number } = {}): Promise<number> {
  const adapters = new Adapters(config, logger);
  try {
    // Started next to the stores (compose, a Kubernetes Job), it waits for them to come up.
    await untilReachable(logger, options.waitMs ?? MIGRATE_WAIT_MS, async () => await (await adapters.rollupStore()).migrate());
    logger.info('migrations_applied');
    const kafka = config.kafka;
    if (kafka !== undefined) {
      const topic = await untilReachable(logger, options.waitMs ?? MIGRATE_WAIT_MS, async () => await createTopic(createKafka(kafka, logger), kafka));
      if (topic.created) logger.info({ topic: kafka.topic, partitions: kafka.partitions, replicationFactor: kafka.replicationFactor }, 'kafka_topic_created');
      else if (topic.partitions !== kafka.partitions) {
        // Partitions can be added, never removed, and adding them moves keys: an operator's decision.
        logger.warn({ topic: kafka.topic, partitions: topic.partitions, configured: kafka.partitions }, 'kafka_topic_partitions_differ');
      } else logger.info({ topic: kafka.topic, partitions: topic.partitions }, 'kafka_topic_exists');
    }
    return 0;
  } catch (err) {
    logger.error({ err }, 'migrate_failed');
    process.stderr.write(`page-stats migrate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await adapters.close();
  }
}

/** How long `page-stats migrate` waits for PostgreSQL and Kafka to become reachable. */
const MIGRATE_WAIT_MS = 120_000;

/** Runs `work` until it succeeds or fails for another reason than an unreachable service. */
async function untilReachable<T>(logger: Logger, waitMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const service = unavailableService(err);
      if (service === undefined || Date.now() >= deadline) throw err;
      logger.warn({ dependency: service, attempt, err: (err as Error).message }, 'migrate_waiting_for_service');
      await backoff(attempt, { baseMs: 250, capMs: 5_000 });
    }
  }
}
