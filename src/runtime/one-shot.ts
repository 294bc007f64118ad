import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../ports/clock.js';
import { Consolidator } from '../services/consolidator/consolidator.js';
import { Adapters } from './adapters.js';
import type { Config } from './config.js';
import { findRunningServer } from './local-control.js';

/** The consolidator on the configured stores, its tables migrated: what one-shot runs, the demo and the benchmarks use. */
export async function openConsolidator(config: Config, adapters: Adapters, logger: Logger, registry = new Registry()): Promise<Consolidator> {
  const rollups = await adapters.rollupStore();
  await rollups.migrate();
  return new Consolidator(
    await adapters.eventStore(),
    rollups,
    systemClock,
    { timeZone: config.reportTimeZone, weekStart: config.weekStart, lateArrivalWindowMs: config.lateArrivalWindowMs },
    logger,
    registry,
  );
}

/**
 * `page-stats consolidate`: one run, then exit — non-zero on failure, as a Kubernetes CronJob
 * expects, so the job is retried and the next run repairs the window.
 */
export async function runConsolidateOnce(
  config: Config,
  logger: Logger,
  range: { from?: string | undefined; to?: string | undefined },
): Promise<number> {
  const adapters = new Adapters(config, logger);
  const running = adapters.usesEmbedded ? findRunningServer(config.dataDir) : undefined;
  if (running !== undefined) return await consolidateThrough(running, range);
  try {
    const consolidator = await openConsolidator(config, adapters, logger);
    const result = await consolidator.run(range);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    logger.error({ err }, 'consolidate_failed');
    process.stderr.write(`page-stats consolidate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await adapters.close();
  }
}

/** Embedded mode with the server running: ask it to consolidate, as it owns the database. */
async function consolidateThrough(
  server: { url: string; token: string },
  range: { from?: string | undefined; to?: string | undefined },
): Promise<number> {
  const query = new URLSearchParams();
  if (range.from !== undefined) query.set('from', range.from);
  if (range.to !== undefined) query.set('to', range.to);
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
export async function runMigrate(config: Config, logger: Logger): Promise<number> {
  const adapters = new Adapters(config, logger);
  try {
    await (await adapters.rollupStore()).migrate();
    logger.info('migrations_applied');
    return 0;
  } catch (err) {
    logger.error({ err }, 'migrate_failed');
    process.stderr.write(`page-stats migrate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await adapters.close();
  }
}
