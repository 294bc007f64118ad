import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Consolidator } from './consolidator.js';

/** Runs the consolidator on a cron schedule in-process (embedded mode); Kubernetes uses a CronJob instead. */
export function scheduleConsolidation(consolidator: Consolidator, schedule: string, timeZone: string, logger: Logger): { stop(): void } {
  const job = new Cron(schedule, { timezone: timeZone, protect: true }, async () => {
    try {
      await consolidator.run();
    } catch {
      // Already logged by the consolidator; the next tick recomputes the same window.
    }
  });
  logger.info({ schedule, next: job.nextRun()?.toISOString() }, 'consolidation_scheduled');
  return { stop: () => job.stop() };
}
