import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import type { DailyCount } from '../../src/ports/event-store.js';
import type { RollupQuery } from '../../src/ports/rollup-store.js';
import type { BenchContext } from '../lib/context.js';
import { DAY_MS, PAGES, REGIONS, utcDay } from '../lib/dataset.js';
import { runLoad } from '../lib/load.js';
import { spawnCli } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { ADMIN_TOKEN } from '../lib/services.js';
import { formatMs, log, now, percentile } from '../lib/stats.js';

/**
 * Fills region_daily (and, through replaceWindow, region_weekly and region_monthly) with `days`
 * days ending today: every region × page has a row every day. Windows of 31 days, as the
 * consolidator's backfill writes them.
 */
export async function seedRollups(databaseUrl: string, days: number, regions: readonly string[], pages: readonly string[]): Promise<number> {
  const db = openPostgres(databaseUrl, { max: 2 });
  const store = new SqlRollupStore(db);
  try {
    await store.migrate();
    const last = utcDay(Date.now(), 0);
    const first = last - (days - 1) * DAY_MS;
    const t0 = now();
    for (let start = first; start <= last; start += 31 * DAY_MS) {
      const end = Math.min(last + DAY_MS, start + 31 * DAY_MS);
      const daily: DailyCount[] = [];
      for (let d = start; d < end; d += DAY_MS) {
        regions.forEach((region, r) => {
          pages.forEach((pageName, p) => {
            daily.push({ dayStart: d, region, pageName, views: 1 + ((d / DAY_MS + r * 7 + p * 13) % 97) });
          });
        });
      }
      await store.replaceWindow({ start, end, timeZone: 'UTC', weekStart: 1, daily, bots: [] });
    }
    // The state autovacuum would soon bring the tables to: planner statistics, visibility map.
    await db.query('VACUUM ANALYZE region_daily, region_weekly, region_monthly');
    return now() - t0;
  } finally {
    await store.close();
  }
}

/** The SQL and parameters the rollup store sends for a query, captured from the store itself. */
async function capturedSql(databaseUrl: string, q: RollupQuery): Promise<{ sql: string; params: readonly unknown[]; rows: number }> {
  const real = openPostgres(databaseUrl, { max: 1 });
  let seen: { sql: string; params: readonly unknown[] } | undefined;
  const recording: SqlDatabase = {
    query: async (sql, params) => {
      seen = { sql, params: params ?? [] };
      return await real.query(sql, params);
    },
    transaction: (work) => real.transaction(work),
    close: () => real.close(),
  };
  const store = new SqlRollupStore(recording);
  try {
    const rows = await store.query(q);
    if (seen === undefined) throw new Error('the rollup store sent no SQL');
    return { ...seen, rows: rows.length };
  } finally {
    await store.close();
  }
}

/** Baseline: the SQL alone through `pg`, `connections` clients in a loop, latency of each. */
async function sqlLoad(databaseUrl: string, sql: string, params: readonly unknown[], connections: number, seconds: number): Promise<number[]> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  const latencies: number[] = [];
  const until = now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (now() < until) {
          const t0 = now();
          await pool.query(sql, params as unknown[]);
          latencies.push(now() - t0);
        }
      }),
    );
  } finally {
    await pool.end();
  }
  return latencies;
}

/** One run of the SQL through `pg`, rows read and parsed, in milliseconds. */
async function sqlOnce(databaseUrl: string, sql: string, params: readonly unknown[]): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const t0 = now();
    await client.query(sql, params as unknown[]);
    return now() - t0;
  } finally {
    await client.end();
  }
}

/**
 * The raw rollup API: `GET /aggregated-data/region-weekly` over 12 months of rollups for 250 regions
 * × 10 pages (one region; the first page of all), served by `page-stats ingest` (which serves the
 * admin API) from PostgreSQL, loaded with autocannon, and the year's daily rows streamed as CSV.
 * Baseline: the same SQL alone through pg, same concurrency and duration.
 */
export async function benchDashboard(ctx: BenchContext): Promise<void> {
  const { options, services } = ctx;
  const databaseUrl = await services.postgres('dashboard');
  const days = 380;
  log(`dashboard: seeding ${days} days × ${REGIONS.length} regions × ${PAGES.length} pages of rollups`);
  const seedMs = await seedRollups(databaseUrl, days, REGIONS, PAGES);
  ctx.detail(
    `dashboard setup: ${num(days * REGIONS.length * PAGES.length)} daily rows (and their weeks and months) written with replaceWindow in ${formatMs(seedMs)}`,
  );

  const cluster = await services.kafka();
  const topic = await services.topic('bench_dashboard', 3);
  const server = await spawnCli(
    'ingest',
    {
      KAFKA_BROKERS: cluster.brokers.join(','),
      KAFKA_TOPIC: topic,
      DATABASE_URL: databaseUrl,
      ADMIN_TOKEN,
      // The realtime panel's embedded store: not the checkout's ./data.
      DATA_DIR: mkdtempSync(join(tmpdir(), 'page-stats-bench-dashboard-')),
    },
    ctx.nodeArgs('dashboard'),
  );
  const end = Date.now();
  const start = new Date(end);
  start.setUTCFullYear(start.getUTCFullYear() - 1);
  const range = { startTime: start.toISOString(), endTime: new Date(end).toISOString() };
  // The raw endpoints answer a page at a time (limit 10,000 by default): one region's 12 months fit
  // in one page; all regions take 14 pages, of which the first is measured. The dashboard itself
  // no longer reads raw rows (the large stage measures its stats requests).
  const cases = [
    { label: 'one region (filtered)', region: REGIONS[42]!, limit: undefined },
    { label: 'all 250 regions × 10 pages, first page (limit 10,000)', region: undefined, limit: 10_000 },
  ];
  try {
    for (const c of cases) {
      const params = new URLSearchParams({ ...range, ...(c.region === undefined ? {} : { region: c.region }) });
      const url = `${server.url}/aggregated-data/region-weekly?${params}`;
      const check = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const text = await check.text();
      if (check.status !== 200) throw new Error(`dashboard query answered ${check.status}: ${text.slice(0, 300)}`);
      const apiRows = (JSON.parse(text) as { rows: unknown[] }).rows.length;
      // The route asks for one row more than the page, to know whether another page follows.
      const sql = await capturedSql(databaseUrl, { granularity: 'weekly', start: start.getTime(), end, region: c.region, limit: 10_001 });
      if (Math.min(sql.rows, 10_000) !== apiRows) throw new Error(`API returned ${apiRows} rows, the SQL ${sql.rows}`);

      log(`dashboard: ${c.label}: ${num(apiRows)} rows, ${num(text.length / 1024)} KiB`);
      const warm = Math.max(1, options.warmupSeconds);
      await sqlLoad(databaseUrl, sql.sql, sql.params, options.dashboardConnections, warm);
      const baseline = await sqlLoad(databaseUrl, sql.sql, sql.params, options.dashboardConnections, options.durationSeconds);
      const load = {
        url,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        connections: options.dashboardConnections,
        expectStatus: 200,
        serverPid: server.child.pid,
      };
      await runLoad({ ...load, durationSeconds: warm });
      const ours = await runLoad({ ...load, durationSeconds: options.durationSeconds });
      const baseP99 = percentile(baseline, 99);
      ctx.detail(
        `dashboard ${c.label}: ${num(apiRows)} rows, ${num(text.length / 1024)} KiB JSON; API ${num(ours.rps)} req/s, p50 ${ours.p50} ms, p99 ${ours.p99} ms (${ours.ok} requests); ` +
          `SQL alone ${num(baseline.length / options.durationSeconds)} queries/s, p50 ${percentile(baseline, 50).toFixed(1)} ms, p99 ${baseP99.toFixed(1)} ms`,
      );
      ctx.add({
        stage: 'dashboard',
        figure: `region-weekly, 12 months, ${c.label}, ${num(apiRows)} rows, p99 at ${options.dashboardConnections} connections`,
        unit: 'ms',
        ours: ours.p99,
        baseline: baseP99,
        baselineLabel: 'the SQL alone through pg',
        goal: { kind: 'at-most', value: 20 },
      });
    }

    // Every daily row of 12 months, as a script exports them: streamed as CSV, one request, timed
    // to the last byte; baseline: the same rows in one query through pg (info, not a goal).
    const params = new URLSearchParams({ ...range, format: 'csv' });
    const t0 = now();
    const res = await fetch(`${server.url}/aggregated-data/region-daily?${params}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = await res.text();
    const apiMs = now() - t0;
    if (res.status !== 200) throw new Error(`region-daily answered ${res.status}: ${body.slice(0, 300)}`);
    const rows = body.split('\n').length - 2;
    const sql = await capturedSql(databaseUrl, { granularity: 'daily', start: start.getTime(), end });
    if (sql.rows !== rows) throw new Error(`CSV has ${rows} rows, the SQL ${sql.rows}`);
    const sqlMs = await sqlOnce(databaseUrl, sql.sql, sql.params);
    ctx.detail(
      `dashboard region-daily, 12 months, unfiltered, CSV: ${num(rows)} rows, ${num(body.length / 2 ** 20)} MiB in ${formatMs(apiMs)}; the SQL alone ${formatMs(sqlMs)}`,
    );
    ctx.add({
      stage: 'dashboard',
      figure: `region-daily?format=csv, 12 months, unfiltered, ${num(rows)} rows streamed, one request`,
      unit: 'ms',
      ours: apiMs,
      baseline: sqlMs,
      baselineLabel: 'the SQL alone through pg (all rows, one query)',
      goal: { kind: 'info' },
    });
  } finally {
    await server.stop();
    ctx.reportProfile('dashboard');
  }
}
