import type { EventPublisher } from '../../ports/event-bus.js';
import { createRegionResolver } from '../../services/ingest/region.js';
import { ingestRoutes } from '../../services/ingest/routes.js';
import { quiet, type RoleContext, type RoleModule } from './module.js';

/** ingest-service: `POST /page-view` into the event log, and the tracker it serves. */
export async function ingestRole(ctx: RoleContext): Promise<RoleModule> {
  return ingestModule(await ctx.adapters.publisher(), ctx);
}

/** The ingest role on a given event log (the benchmarks measure the HTTP stack on one that acknowledges at once). */
export function ingestModule(publisher: EventPublisher, ctx: Pick<RoleContext, 'config' | 'clock' | 'registry'>): RoleModule {
  const { config } = ctx;
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
