import { request } from 'node:http';
import type { BenchContext } from '../lib/context.js';
import type { StatsRequest } from '../lib/dashboard-requests.js';
import { isoDate } from '../lib/dataset.js';
import type { LargeDataset } from '../lib/large-dataset.js';
import { runLoad } from '../lib/load.js';
import { measureMemory, type MemoryReading } from '../lib/memory.js';
import type { Child } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { formatMs, log, now } from '../lib/stats.js';
import { auth, getText, startAdminServer } from './server.js';

/** No read request may take the server more than this far above its idle memory (issue 10). */
export const MEMORY_GOAL_MIB = 100;

/** Streams a response, counting bytes and lines without keeping them. */
function streamCount(url: string): Promise<{ bytes: number; lines: number; status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: auth }, (res) => {
      let bytes = 0;
      let lines = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      });
      res.on('end', () => resolve({ bytes, lines, status: res.statusCode ?? 0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A fresh server, warmed with one small request of each kind, then `work` with its memory measured. */
async function onFreshServer<T>(ctx: BenchContext, ds: LargeDataset, work: (server: Child) => Promise<T>): Promise<{ memory: MemoryReading; result: T }> {
  const server = await startAdminServer(ctx, ds.url);
  try {
    const day = isoDate(ds.lastDay);
    await getText(`${server.url}/aggregated-data/summary?startTime=${day}&endTime=${day}`);
    await getText(`${server.url}/aggregated-data/breakdown?by=page&startTime=${day}&endTime=${day}&limit=10`);
    await getText(`${server.url}/aggregated-data/region-daily?startTime=${day}&endTime=${day}&limit=10`);
    await streamCount(`${server.url}/aggregated-data/region-daily?startTime=${day}&endTime=${day}&limit=10&format=csv`);
    return await measureMemory(server.child.pid!, () => work(server));
  } finally {
    await server.stop();
  }
}

function report(ctx: BenchContext, what: string, m: MemoryReading, extra: string): void {
  ctx.detail(`large memory, ${what}: idle ${num(m.idleMiB)} MiB, peak ${num(m.peakMiB)} MiB (${m.source}), +${num(m.aboveIdleMiB)} MiB; ${extra}`);
  ctx.add({
    stage: 'large',
    figure: `server memory above idle (${num(m.idleMiB)} MiB): ${what}`,
    unit: 'MiB',
    ours: m.aboveIdleMiB,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'at-most', value: MEMORY_GOAL_MIB },
  });
}

/**
 * The server's resident memory, idle against peak, while (a) one client streams every
 * region_daily row of the year as CSV, (b) one client pages through them 100,000 (the maximum) and
 * 10,000 (the default) at a time, and
 * (c) 8 connections ask the 12-month stats requests over and over. A fresh server each time.
 */
export async function measureReadMemory(
  ctx: BenchContext,
  ds: LargeDataset,
  statsRequests: readonly StatsRequest[],
  maxPages: number,
  statsSeconds: number,
): Promise<void> {
  const range = `startTime=${isoDate(ds.firstDay)}&endTime=${isoDate(ds.lastDay)}`;
  const expectedRows = ds.rows.region_daily ?? 0;

  log('large: memory while streaming region-daily as CSV');
  const stream = await onFreshServer(ctx, ds, async (server) => {
    const t0 = now();
    const r = await streamCount(`${server.url}/aggregated-data/region-daily?${range}&format=csv`);
    return { ...r, ms: now() - t0 };
  });
  const rows = stream.result.lines - 1;
  if (stream.result.status !== 200 || rows !== expectedRows)
    throw new Error(`CSV stream: status ${stream.result.status}, ${rows} rows, expected ${expectedRows}`);
  const rowsPerSecond = rows / (stream.result.ms / 1000);
  report(
    ctx,
    `region-daily?format=csv, the whole year (${num(rows)} rows, ${num(stream.result.bytes / 2 ** 20)} MiB)`,
    stream.memory,
    `${formatMs(stream.result.ms)}, ${num(rowsPerSecond)} rows/s`,
  );
  ctx.add({
    stage: 'large',
    figure: `region-daily?format=csv, the whole year, ${num(rows)} rows streamed`,
    unit: 'rows/s',
    ours: rowsPerSecond,
    baseline: undefined,
    baselineLabel: '',
    goal: { kind: 'info' },
  });

  for (const limit of [100_000, 10_000]) {
    log(`large: memory while paging region-daily (limit ${limit}, up to ${maxPages} pages)`);
    const paging = await onFreshServer(ctx, ds, async (server) => {
      let cursor: string | null = null;
      let pages = 0;
      let pageRows = 0;
      const t0 = now();
      do {
        const body = JSON.parse(
          await getText(`${server.url}/aggregated-data/region-daily?${range}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`),
        ) as { rows: unknown[]; nextCursor: string | null };
        pages++;
        pageRows += body.rows.length;
        cursor = body.nextCursor;
      } while (cursor !== null && pages < maxPages);
      return { pages, rows: pageRows, ms: now() - t0, done: cursor === null };
    });
    const p = paging.result;
    if (p.done && p.rows !== expectedRows) throw new Error(`paging returned ${p.rows} rows, expected ${expectedRows}`);
    report(
      ctx,
      `region-daily paged, limit=${limit}, ${p.pages} pages${p.done ? ' (the whole year)' : ''}`,
      paging.memory,
      `${num(p.rows)} rows in ${formatMs(p.ms)}, ${formatMs(p.ms / p.pages)} per page, ${num(p.rows / (p.ms / 1000))} rows/s`,
    );
  }

  log('large: memory under 8 concurrent 12-month stats requests');
  const concurrent = await onFreshServer(
    ctx,
    ds,
    async (server) =>
      await runLoad({
        url: server.url,
        paths: statsRequests.map((r) => r.path),
        headers: auth,
        connections: 8,
        durationSeconds: statsSeconds,
        expectStatus: 200,
        serverPid: server.child.pid,
      }),
  );
  const c = concurrent.result;
  if (c.errors > 0) throw new Error(`8 concurrent stats requests: ${c.errors} errors`);
  report(
    ctx,
    `8 concurrent 12-month stats requests (${statsRequests.length} kinds in turn, ${statsSeconds} s)`,
    concurrent.memory,
    `${num(c.rps)} req/s, p50 ${c.p50} ms, p99 ${c.p99} ms`,
  );
}
