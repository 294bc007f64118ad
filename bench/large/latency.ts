import { isDeepStrictEqual } from 'node:util';
import type { BenchContext } from '../lib/context.js';
import type { Filter, StatsRequest } from '../lib/dashboard-requests.js';
import { runLoad } from '../lib/load.js';
import type { Child } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { captureStatsSql, sqlLoad, type CapturedRequest } from '../lib/stats-capture.js';
import { log, percentile } from '../lib/stats.js';
import { auth, getText } from './server.js';

/** p99 goal of every stats request at the large data set (issue 10). */
export const STATS_P99_GOAL_MS = 50;

export interface LatencyRow {
  request: StatsRequest;
  statements: number;
  bytes: number;
  api: { p50: number; p99: number; rps: number; cpuUs: number | undefined };
  sql: { p50: number; p99: number };
}

/**
 * Each stats request of the dashboard's views, served by the real server under autocannon at
 * `connections` connections, against the SQL the rollup store sends for it (captured from the
 * product's routes) alone through `pg` at the same concurrency. The server's answer is checked
 * against the in-process one first, so both sides compute the same thing.
 */
export async function measureStatsLatency(
  ctx: BenchContext,
  server: Child,
  databaseUrl: string,
  requests: readonly StatsRequest[],
  seconds: number,
): Promise<{ rows: LatencyRow[]; captured: CapturedRequest[] }> {
  const connections = ctx.options.dashboardConnections;
  const captured = await captureStatsSql(
    databaseUrl,
    requests.map((r) => r.path),
  );
  const rows: LatencyRow[] = [];
  for (const [i, request] of requests.entries()) {
    const sql = captured[i]!;
    const body = await getText(server.url + request.path);
    if (!isDeepStrictEqual(JSON.parse(body), JSON.parse(sql.body))) {
      throw new Error(`${request.path}: the server answered ${body.slice(0, 200)}, the routes in process ${sql.body.slice(0, 200)}`);
    }
    await sqlLoad(databaseUrl, sql.statements, connections, 1);
    const baseline = await sqlLoad(databaseUrl, sql.statements, connections, seconds);
    const load = { url: server.url + request.path, headers: auth, connections, expectStatus: 200, serverPid: server.child.pid };
    await runLoad({ ...load, durationSeconds: 1 });
    const ours = await runLoad({ ...load, durationSeconds: seconds });
    if (ours.errors > 0) throw new Error(`${request.path}: ${ours.errors} errors under load`);
    const row: LatencyRow = {
      request,
      statements: sql.statements.length,
      bytes: Buffer.byteLength(body),
      api: { p50: ours.p50, p99: ours.p99, rps: ours.rps, cpuUs: ours.serverCpuUs },
      sql: { p50: percentile(baseline, 50), p99: percentile(baseline, 99) },
    };
    rows.push(row);
    log(
      `large: ${request.view.id} ${request.filter.id} ${request.label}: API p50 ${row.api.p50} / p99 ${row.api.p99} ms, SQL p50 ${row.sql.p50.toFixed(1)} / p99 ${row.sql.p99.toFixed(1)} ms`,
    );
    ctx.detail(
      `large ${request.view.id} ${request.filter.label} ${request.label}: ${num(row.bytes)} B JSON, ${row.statements} statement(s); ` +
        `API ${num(ours.rps)} req/s, p50 ${ours.p50} ms, p99 ${ours.p99} ms, ${ours.serverCpuUs === undefined ? '?' : num(ours.serverCpuUs)} µs server CPU/request; ` +
        `SQL alone ${num(baseline.length / seconds)}/s, p50 ${row.sql.p50.toFixed(1)} ms, p99 ${row.sql.p99.toFixed(1)} ms`,
    );
    ctx.add({
      stage: 'large',
      figure: `${request.view.id}, ${request.filter.label}: ${request.label}, p99 at ${connections} connections`,
      unit: 'ms',
      ours: ours.p99,
      baseline: row.sql.p99,
      baselineLabel: 'its SQL alone through pg',
      goal: { kind: 'at-most', value: STATS_P99_GOAL_MS },
    });
  }
  return { rows, captured };
}

/** The same figures as one Markdown matrix: a row per request, p50 / p99 per filter, API and SQL. */
export function latencyMatrix(rows: readonly LatencyRow[], filters: readonly Filter[]): string {
  const keys = [...new Set(rows.map((r) => `${r.request.view.id} ${r.request.label}`))];
  const cell = (key: string, f: Filter): string => {
    const r = rows.find((x) => `${x.request.view.id} ${x.request.label}` === key && x.request.filter.id === f.id);
    return r === undefined ? '—' : `${r.api.p50} / ${r.api.p99} (${r.sql.p50.toFixed(1)} / ${r.sql.p99.toFixed(1)})`;
  };
  const head = ['request', ...filters.map((f) => `${f.label}: API p50 / p99 (SQL alone)`)];
  const body = keys.map((k) => [k, ...filters.map((f) => cell(k, f))]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}
