import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { runLoad, type LoadOptions } from '../lib/load.js';
import { counterTotal } from '../lib/metrics.js';
import { spawnCli, spawnNode, type Child } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { ADMIN_PASSWORD, ADMIN_TOKEN } from '../lib/services.js';
import { formatMs, log, median, now, sleep } from '../lib/stats.js';
import { BARE_HTTP, describeRun, trackerBodies } from './ingest.js';

/** Events processing has written to the event store so far (its Prometheus counter). */
const processed = (app: Child): Promise<number> => counterTotal(app.url, 'page_stats_processing_events_total');

async function drained(app: Child, expected: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await processed(app)) < expected) {
    if (Date.now() > deadline) throw new Error(`embedded processing stored ${await processed(app)} of ${expected} events`);
    await sleep(25);
  }
}

/**
 * Embedded mode (`page-stats start`: every role in one process, PGlite for log and stores): POST
 * /page-view one event per request; 202 means committed to the embedded log. The figure counts
 * an event once it is acknowledged and then processed into the event store: the acknowledged
 * events of the measured run divided by the load time plus the time processing needed to catch up.
 */
export async function benchEmbedded(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-bench-embedded-'));
  const app = await spawnCli(
    'start',
    {
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_MINUTE: '0',
      ADMIN_TOKEN,
      ADMIN_PASSWORD,
      // no scheduled consolidation during the measurement
      CONSOLIDATE_SCHEDULE: '0 0 1 1 *',
    },
    ctx.nodeArgs('embedded'),
  );
  const load = (server: Child, durationSeconds: number, expectStatus: number): LoadOptions => ({
    url: `${server.url}/page-view`,
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://www.example.com' },
    bodies: trackerBodies(Date.now()),
    connections: options.connections,
    durationSeconds,
    expectStatus,
    serverPid: server.child.pid,
  });
  const rates: number[] = [];
  const acked: number[] = [];
  try {
    let total = 0;
    if (options.warmupSeconds > 0) {
      total += (await runLoad(load(app, options.warmupSeconds, 202))).ok;
      await drained(app, total);
    }
    for (let round = 1; round <= options.rounds; round++) {
      log(`embedded round ${round}/${options.rounds}`);
      const t0 = now();
      const r = await runLoad(load(app, options.durationSeconds, 202));
      total += r.ok;
      const loadEnd = now();
      await drained(app, total);
      const t1 = now();
      rates.push(r.ok / ((t1 - t0) / 1000));
      acked.push(r.rps);
      ctx.detail(describeRun(`embedded round ${round}, page-stats start`, r));
      ctx.detail(
        `embedded round ${round}: processing caught up ${formatMs(t1 - loadEnd)} after the load ended; ${num(rates.at(-1)!)} events/s acknowledged and processed`,
      );
    }
  } finally {
    await app.stop();
    ctx.reportProfile('embedded');
    rmSync(dataDir, { recursive: true, force: true });
  }

  let bareRps = ctx.shared.get('bareRps');
  if (bareRps === undefined) {
    const bare = await spawnNode(BARE_HTTP, []);
    try {
      if (options.warmupSeconds > 0) await runLoad(load(bare, options.warmupSeconds, 204));
      bareRps = (await runLoad(load(bare, options.durationSeconds, 204))).rps;
    } finally {
      await bare.stop();
    }
  }
  ctx.add({
    stage: 'embedded',
    figure: 'POST /page-view → PGlite log → processed, 1 event per request',
    unit: 'events/s',
    ours: median(rates),
    baseline: bareRps,
    baselineLabel: 'bare node:http 204',
    goal: { kind: 'at-least', value: 5_000 },
  });
  ctx.add({
    stage: 'embedded',
    figure: 'acknowledged (202) during the load',
    unit: 'events/s',
    ours: median(acked),
    baseline: bareRps,
    baselineLabel: 'bare node:http 204',
    goal: { kind: 'info' },
  });
}
