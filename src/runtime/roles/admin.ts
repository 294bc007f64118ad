import { csrfGuard } from '../../services/admin-api/guard.js';
import { adminApiRoutes } from '../../services/admin-api/routes.js';
import { sessionRoutes } from '../../services/admin-api/session-routes.js';
import { publishControl } from '../local-control.js';
import { quiet, type RoleContext, type RoleModule } from './module.js';

/** The admin API and the dashboard: stats, raw rows, sign-in, consolidation on demand, import and export. */
export async function adminRole(ctx: RoleContext): Promise<RoleModule> {
  const { config } = ctx;
  const [rollups, events, access] = await Promise.all([ctx.rollups(), ctx.adapters.eventStore(), ctx.access()]);
  const consolidator = ctx.roles.has('consolidator') ? await ctx.consolidator() : undefined;
  const { hashes, guard } = access;
  if (hashes === undefined || guard === undefined) throw new Error('the admin role needs resolved credentials');
  const now = (): number => ctx.clock.now();
  let unpublish: (() => void) | undefined;
  return {
    ...quiet,
    stores: { eventStore: () => events.ready(), rollupStore: () => rollups.ready() },
    servesUi: true,
    routes: async (http) => {
      http.addHook('onRequest', csrfGuard());
      await http.register(sessionRoutes, {
        hashes,
        requireAdmin: guard,
        sessionTtlMs: config.admin.sessionTtlMs,
        now,
        timezone: config.reportTimeZone,
        weekStart: config.weekStart,
      });
      await http.register(adminApiRoutes, {
        rollups,
        events,
        requireAdmin: guard,
        now,
        timezone: config.reportTimeZone,
        weekStart: config.weekStart,
        consolidate: consolidator ? (request) => consolidator.run(request) : undefined,
        // Imports consolidate their days: where the consolidator role does not run, it is built
        // on first use, as long as this process reaches the event store the consolidator reads.
        importer:
          consolidator !== undefined || config.influx !== undefined
            ? {
                consolidate: async (range) => await (consolidator ?? (await ctx.consolidator())).run(range),
                timeZone: config.reportTimeZone,
                now,
                logger: ctx.logger,
              }
            : undefined,
      });
    },
    start: async (url) => {
      // `page-stats consolidate` beside a running embedded server asks it, as it owns the database.
      if (access.localToken !== undefined) unpublish = publishControl(config.dataDir, url, access.localToken);
    },
    stop: async () => unpublish?.(),
  };
}
