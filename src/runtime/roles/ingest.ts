import { createRegionResolver } from '../../services/ingest/region.js';
import { ingestRoutes } from '../../services/ingest/routes.js';
import { quiet, type RoleContext, type RoleModule } from './module.js';

/** ingest-service: `POST /page-view` into the event log, and the tracker it serves. */
export async function ingestRole(ctx: RoleContext): Promise<RoleModule> {
  const { config } = ctx;
  const publisher = await ctx.adapters.publisher();
  return {
    ...quiet,
    checks: { eventLog: () => publisher.ready() },
    servesUi: true,
    routes: async (http) => {
      await http.register(ingestRoutes, {
        publisher,
        clock: ctx.clock,
        lateArrivalWindowMs: config.lateArrivalWindowMs,
        resolveRegion: createRegionResolver(config.regionHeader),
        allowedOrigins: config.allowedOrigins,
        rateLimitPerMinute: config.rateLimitPerMinute,
        registry: ctx.registry,
      });
    },
  };
}
