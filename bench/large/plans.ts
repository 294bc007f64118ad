import type { BenchContext } from '../lib/context.js';
import type { StatsRequest } from '../lib/dashboard-requests.js';
import { DAY_MS } from '../lib/dataset.js';
import type { LargeDataset } from '../lib/large-dataset.js';
import { capturedRowSql, explain, type CapturedRequest, type Statement } from '../lib/stats-capture.js';

/** The plan lines worth reading: nodes, index conditions, buffers and times. */
function trimmed(plan: string): string {
  return plan
    .split('\n')
    .filter((l) => !/^\s*(Planning:|Output:|Sort Method: quicksort|Worker \d+:)/.test(l))
    .join('\n');
}

/**
 * `EXPLAIN (ANALYZE, BUFFERS)` at the large data set: the raw endpoint's range query (one day
 * unfiltered, one region, one page: the first read of a JSON page; and a mid-year page of the CSV stream),
 * and every statement of the main 12-month stats requests.
 */
export async function explainPlans(
  ctx: BenchContext,
  ds: LargeDataset,
  requests: readonly StatsRequest[],
  captured: readonly CapturedRequest[],
): Promise<void> {
  const day = ds.lastDay - DAY_MS;
  const plans: Array<{ title: string; statement: Statement }> = [
    {
      title: "GET /aggregated-data/region-daily, one day, unfiltered (a JSON page's first read: 5,000 rows + 1)",
      statement: await capturedRowSql(ds.url, { granularity: 'daily', start: day, end: day + DAY_MS, limit: 5_001 }),
    },
    {
      title: "GET /aggregated-data/region-daily?region=US, 30 days (a JSON page's first read: 5,000 rows + 1)",
      statement: await capturedRowSql(ds.url, { granularity: 'daily', start: day - 29 * DAY_MS, end: day + DAY_MS, region: 'US', limit: 5_001 }),
    },
    {
      title: "GET /aggregated-data/region-monthly?pageName=/, the year (a JSON page's first read: 5,000 rows + 1)",
      statement: await capturedRowSql(ds.url, { granularity: 'monthly', start: ds.firstDay, end: ds.lastDay + DAY_MS, pageName: '/', limit: 5_001 }),
    },
    {
      title: 'GET /aggregated-data/region-daily?format=csv, the year: a page of the stream half-way (limit 5,000 after a row)',
      statement: await capturedRowSql(ds.url, {
        granularity: 'daily',
        start: ds.firstDay,
        end: ds.lastDay + DAY_MS,
        limit: 5_000,
        after: { periodStart: ds.firstDay + 180 * DAY_MS, region: 'IN', pageName: '/' },
      }),
    },
  ];
  // The statements that decide the figures: every all-pages aggregation (summary's distinct
  // pages, breakdown by page), the filtered pair reads, and the filtered series.
  const wanted = (r: StatsRequest): boolean =>
    (r.view.id === '30d' && r.filter.id === 'all' && (r.kind === 'summary' || r.kind === 'breakdown-page')) ||
    (r.view.id === '12m' &&
      ((r.filter.id === 'all' && r.kind !== 'timeseries') ||
        (r.filter.id === 'region' && (r.kind === 'breakdown-page' || (r.kind === 'timeseries' && r.interval === 'day'))) ||
        (r.filter.id === 'page' && (r.kind === 'breakdown-region' || (r.kind === 'timeseries' && r.interval === 'day')))));
  requests.forEach((r, i) => {
    if (!wanted(r)) return;
    captured[i]!.statements.forEach((statement, n) => {
      plans.push({ title: `${r.view.id}, ${r.filter.label}: ${r.label}${captured[i]!.statements.length > 1 ? `, statement ${n + 1}` : ''}`, statement });
    });
  });
  for (const { title, statement } of plans) {
    const plan = await explain(ds.url, statement);
    ctx.detail(`large EXPLAIN (ANALYZE, BUFFERS) — ${title}`);
    ctx.detail(`  params: ${JSON.stringify(statement.params).slice(0, 400)}`);
    for (const line of statement.sql.split('\n')) ctx.detail(`  sql | ${line.trim()}`);
    for (const line of trimmed(plan).split('\n')) ctx.detail(`  ${line}`);
  }
}
