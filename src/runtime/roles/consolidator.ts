import { scheduleConsolidation } from '../../services/consolidator/schedule.js';
import { quiet, type RoleContext, type RoleModule } from './module.js';

/** consolidator-service: on CONSOLIDATE_SCHEDULE in this process when asked to, else on demand (the admin API, a CronJob). */
export async function consolidatorRole(ctx: RoleContext): Promise<RoleModule> {
  const [consolidator, events, rollups] = await Promise.all([ctx.consolidator(), ctx.adapters.eventStore(), ctx.rollups()]);
  let scheduled: { stop(): void } | undefined;
  return {
    ...quiet,
    stores: { eventStore: () => events.ready(), rollupStore: () => rollups.ready() },
    start: async () => {
      if (ctx.schedule) scheduled = scheduleConsolidation(consolidator, ctx.config.consolidateSchedule, ctx.config.reportTimeZone, ctx.logger);
    },
    stop: async () => {
      scheduled?.stop();
      await consolidator.idle();
    },
  };
}
