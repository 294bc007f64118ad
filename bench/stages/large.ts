import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { measureConsolidation } from '../large/consolidation.js';
import { latencyMatrix, measureStatsLatency } from '../large/latency.js';
import { measureReadMemory } from '../large/memory.js';
import { explainPlans } from '../large/plans.js';
import { getText, startAdminServer } from '../large/server.js';
import type { BenchContext } from '../lib/context.js';
import { measureRender } from '../lib/dashboard-browser.js';
import { dashboardViews, viewRequests, type Filter, type View } from '../lib/dashboard-requests.js';
import { DAY_MS, isoDate } from '../lib/dataset.js';
import { ensureLargeDataset, type LargeDataset } from '../lib/large-dataset.js';
import { captureStatsSql, type CapturedRequest } from '../lib/stats-capture.js';
import { FULL_SHAPE, QUICK_SHAPE } from '../lib/large-shape.js';
import { withClient } from '../lib/pg-bulk.js';
import { ROOT, type Child } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { ADMIN_PASSWORD } from '../lib/services.js';
import { formatMs, log } from '../lib/stats.js';

/** First render of a dashboard view and the bytes of its API answers (issue 10's goals). */
const RENDER_GOAL_MS = 2_000;
const BYTES_GOAL = 200_000;

/** The most viewed region and page of the 12-month view: the filters an admin would pick first. */
async function popular(ds: LargeDataset, view: View): Promise<{ region: string; pageName: string }> {
  return await withClient(ds.url, async (c) => {
    const top = async (table: string, key: string): Promise<string> =>
      (
        await c.query<{ k: string }>(
          `SELECT ${key} AS k FROM ${table} WHERE period_start >= $1 AND period_start <= $2 GROUP BY 1 ORDER BY sum(views) DESC, 1 LIMIT 1`,
          [view.from, view.to],
        )
      ).rows[0]!.k;
    return { region: await top('by_region_daily', 'region'), pageName: await top('by_page_daily', 'page_name') };
  });
}

function datasetLines(ctx: BenchContext, ds: LargeDataset): void {
  const perDay = (ds.rows.region_daily ?? 0) / ds.shape.days;
  const s = ds.shape;
  ctx.detail(
    `large data set (${s.label}): ${s.regions} regions × ${num(s.pages)} pages, Zipf exponents ${s.regionSkew} (regions) / ${s.pageSkew} (pages), ` +
      `${s.days} days ${isoDate(ds.firstDay)} – ${isoDate(ds.lastDay)}, ~${num(s.viewsPerDay)} views a weekday; ${num(ds.rows.region_daily ?? 0)} region_daily rows (${num(perDay)} a day)`,
  );
  ctx.detail(
    `large rows per table: ${Object.entries(ds.rows)
      .map(([t, n]) => `${t} ${num(n)}`)
      .join(', ')}`,
  );
  ctx.detail(
    `large load: ${ds.state === 'built' ? 'built in' : 'reused the cached data set, which took'} ${formatMs(ds.loadMs)} (${Object.entries(ds.loadSteps)
      .filter(([k]) => k !== 'total')
      .map(([k, v]) => `${k} ${formatMs(v)}`)
      .join('; ')})${ds.moveMs === undefined ? '' : `; moved forward to end today in ${formatMs(ds.moveMs)}`}`,
  );
}

/**
 * Issue 10's read side at a realistic size: a year of 150 regions × 5,000 pages in PostgreSQL;
 * every stats request of the dashboard's default and 12-month views (unfiltered, one region, one
 * page) through the real server against its SQL alone; the 12-month view's first render and API
 * bytes in headless Chromium; EXPLAIN plans; the server's memory under the heaviest reads; and the
 * consolidation cost of the summed rollups against the previous release. `--quick`: a smaller shape.
 */
export async function benchLarge(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const ds = await ensureLargeDataset(options.quick ? QUICK_SHAPE : FULL_SHAPE);
  datasetLines(ctx, ds);
  ctx.add({
    stage: 'large',
    figure: `data set load: ${num(ds.rows.region_daily ?? 0)} region_daily rows generated, derived, indexed${ds.state === 'built' ? '' : ' (cached; time of the original load)'}`,
    unit: 'ms',
    ours: ds.loadMs,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'info' },
  });

  const views = dashboardViews(ds.lastDay);
  const twelve = views.find((v) => v.id === '12m')!;
  const top = await popular(ds, twelve);
  const filters: Filter[] = [
    { id: 'all', label: 'unfiltered' },
    { id: 'region', label: `region=${top.region}`, region: top.region },
    { id: 'page', label: `pageName=${top.pageName}`, pageName: top.pageName },
  ];
  const seconds = options.statsSeconds;

  const parts = options.largeParts;
  if (parts.has('latency') || parts.has('plans') || parts.has('render')) {
    const server = await startAdminServer(ctx, ds.url);
    try {
      // --quick: the 12-month view as it opens (daily chart) only.
      const measured = options.quick ? [{ ...twelve, intervals: twelve.intervals.slice(0, 1) }] : views;
      const requests = measured.flatMap((v) => filters.flatMap((f) => viewRequests(v, f)));
      let captured: CapturedRequest[] | undefined;
      if (parts.has('latency')) {
        log('large: stats requests, API against SQL');
        const latency = await measureStatsLatency(ctx, server, ds.url, requests, seconds);
        captured = latency.captured;
        for (const line of latencyMatrix(latency.rows, filters).split('\n')) ctx.detail(line);
      }
      if (parts.has('plans') && !options.quick)
        await explainPlans(
          ctx,
          ds,
          requests,
          captured ??
            (await captureStatsSql(
              ds.url,
              requests.map((r) => r.path),
            )),
        );
      if (parts.has('render')) await measureRenders(ctx, server, options.quick ? [twelve] : views, options.quick ? 2 : 5);
    } finally {
      await server.stop();
      ctx.reportProfile('large');
    }
  }
  if (parts.has('memory'))
    await measureReadMemory(
      ctx,
      ds,
      filters.flatMap((f) => viewRequests(twelve, f)),
      options.largePages,
      options.quick ? 3 : 10,
    );
  if (parts.has('consolidation')) await measureConsolidation(ctx, ds, Math.max(2, options.rounds), options.quick ? 0 : 2);
}

/** First render of each view in headless Chromium, and the bytes of the API answers it needed. */
async function measureRenders(ctx: BenchContext, server: Child, views: readonly View[], loads: number): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'dashboard', 'index.html'))) {
    ctx.detail('large render: skipped, the dashboard is not built (npm run build:dashboard)');
    return;
  }
  for (const view of views) {
    const path = view.id === '30d' ? '/' : `/?range=${view.id}`;
    const points = Math.round((Date.parse(view.to) - Date.parse(view.from)) / DAY_MS) + 1;
    log(`large: first render of ${path} in Chromium`);
    const render = await measureRender(server.url, ADMIN_PASSWORD, path, points, loads);
    const summary = JSON.parse(await getText(`${server.url}/aggregated-data/summary?startTime=${view.from}&endTime=${view.to}`)) as { views: number };
    if (render.runs.some((r) => r.total !== summary.views))
      throw new Error(`the dashboard showed ${render.runs.map((r) => r.total).join(', ')} views, the API says ${summary.views}`);
    for (const [i, r] of render.runs.entries()) {
      ctx.detail(
        `large render ${path} #${i + 1}: ${formatMs(r.ms)}, ${num(r.apiBytes)} B of API answers in ${r.apiRequests.length} requests: ${r.apiRequests.join(' ')}`,
      );
    }
    ctx.add({
      stage: 'large',
      figure: `dashboard ${view.label} (${path}): first render in headless Chromium, median of ${render.runs.length} (max ${formatMs(render.maxMs)})`,
      unit: 'ms',
      ours: render.medianMs,
      baseline: undefined,
      baselineLabel: '',
      goal: { kind: 'at-most', value: RENDER_GOAL_MS },
    });
    ctx.add({
      stage: 'large',
      figure: `dashboard ${view.label} (${path}): bytes of API responses`,
      unit: 'B',
      ours: render.medianBytes,
      baseline: undefined,
      baselineLabel: '',
      goal: { kind: 'at-most', value: BYTES_GOAL },
    });
  }
}
