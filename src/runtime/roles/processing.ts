import { ProcessingService } from '../../services/processing/processor.js';
import { quiet, type RoleContext, type RoleModule } from './module.js';

/** processing-service: the event log into the event store, with the deltas consolidation folds. */
export async function processingRole(ctx: RoleContext): Promise<RoleModule> {
  const [consumer, events, rollups] = await Promise.all([ctx.adapters.consumer(), ctx.adapters.eventStore(), ctx.rollups()]);
  const processing = new ProcessingService(consumer, events, rollups, ctx.logger.child({ role: 'processing' }), ctx.registry, {
    lateArrivalWindowMs: ctx.config.lateArrivalWindowMs,
  });
  return {
    ...quiet,
    checks: { processing: () => processing.ready() },
    stores: { eventStore: () => events.ready(), rollupStore: () => rollups.ready() },
    start: async () => await processing.start(),
    stop: async () => await processing.stop(),
  };
}
