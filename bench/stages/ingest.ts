import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { logPosition, PAGES, REGIONS } from '../lib/dataset.js';
import { runLoad, type LoadOptions, type LoadResult } from '../lib/load.js';
import { ROOT, spawnCli, spawnNode, type Child } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { log, median } from '../lib/stats.js';

export const BARE_HTTP = join(ROOT, 'bench', 'servers', 'bare-http.ts');
const HTTP_STACK = join(ROOT, 'bench', 'servers', 'http-stack.ts');

/** What the tracker sends: one event per request, as text/plain (sendBeacon), no region (GeoIP decides). */
export function trackerBodies(now: number): string[] {
  return PAGES.map((pageName, i) =>
    JSON.stringify(i % 2 === 0 ? { timestamp: now - i * 1_000, pageName } : { timestamp: now - i * 1_000, pageName, region: REGIONS[i] }),
  );
}

export function describeRun(label: string, r: LoadResult): string {
  const cpu = r.serverCpuUs === undefined ? '' : `, server CPU ${num(r.serverCpuUs)} µs/request`;
  return `${label}: ${num(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.ok} ok, ${r.errors} errors${cpu}`;
}

/**
 * ingest-service (`page-stats ingest`) against the 3-broker Kafka mock: 202 only after the produce
 * request was acknowledged by all in-sync replicas. Baseline: a bare node:http server answering 204,
 * loaded by the same autocannon run settings, alternately, in the same run.
 */
export async function benchIngest(ctx: BenchContext): Promise<void> {
  const { options, services } = ctx;
  const cluster = await services.kafka();
  const topic = await services.topic('bench_ingest', options.ingestPartitions);
  const ingest = await spawnCli('ingest', { KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_TOPIC: topic, RATE_LIMIT_PER_MINUTE: '0' }, ctx.nodeArgs('ingest'));
  const bare = await spawnNode(BARE_HTTP, []);
  const bodies = trackerBodies(Date.now());
  const load = (server: Child, durationSeconds: number): LoadOptions => ({
    url: `${server.url}/page-view`,
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://www.example.com' },
    bodies,
    connections: options.connections,
    durationSeconds,
    expectStatus: server === bare ? 204 : 202,
    serverPid: server.child.pid,
  });

  const ours: LoadResult[] = [];
  const baseline: LoadResult[] = [];
  let acknowledged = 0;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      log(`ingest round ${round}/${options.rounds}: bare node:http, then page-stats ingest`);
      if (options.warmupSeconds > 0) await runLoad(load(bare, options.warmupSeconds));
      baseline.push(await runLoad(load(bare, options.durationSeconds)));
      if (options.warmupSeconds > 0) acknowledged += (await runLoad(load(ingest, options.warmupSeconds))).ok;
      const r = await runLoad(load(ingest, options.durationSeconds));
      acknowledged += r.ok;
      ours.push(r);
      ctx.detail(describeRun(`ingest round ${round}, bare node:http`, baseline.at(-1)!));
      ctx.detail(describeRun(`ingest round ${round}, page-stats ingest`, r));
    }
    // Durability check: every acknowledged event is in the log (one event per request).
    const { end } = await logPosition(await services.kafkaClient(), topic, 'bench-none');
    ctx.detail(`ingest check: ${num(acknowledged)} events acknowledged with 202, ${num(end)} in Kafka topic ${topic}`);
    if (end < acknowledged) throw new Error(`only ${end} of ${acknowledged} acknowledged events are in Kafka`);
  } finally {
    await ingest.stop();
    ctx.reportProfile('ingest');
  }

  const bareRps = median(baseline.map((r) => r.rps));
  ctx.shared.set('bareRps', bareRps);
  ctx.add({
    stage: 'ingest',
    figure: 'POST /page-view, 1 event per request, 202 after Kafka ack',
    unit: 'req/s',
    ours: median(ours.map((r) => r.rps)),
    baseline: bareRps,
    baselineLabel: 'bare node:http 204',
    goal: { kind: 'ratio-at-least', value: 0.7 },
  });
  ctx.add({
    stage: 'ingest',
    figure: 'p99 latency under that load',
    unit: 'ms',
    ours: median(ours.map((r) => r.p99)),
    baseline: median(baseline.map((r) => r.p99)),
    baselineLabel: 'bare node:http',
    goal: { kind: 'info' },
  });

  // Where the time goes: the same load on two steps between the bare server and ingest.
  for (const [mode, figure] of [
    ['fastify', 'diagnostic: plain Fastify route answering 202'],
    ['ingest-no-log', 'diagnostic: ingest HTTP stack, event log acking at once'],
  ] as const) {
    const server = await spawnNode(HTTP_STACK, [mode], { env: { RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      if (options.warmupSeconds > 0) await runLoad(load(server, options.warmupSeconds));
      const r = await runLoad({ ...load(server, options.durationSeconds), expectStatus: 202 });
      ctx.detail(describeRun(figure, r));
      ctx.add({ stage: 'ingest', figure, unit: 'req/s', ours: r.rps, baseline: bareRps, baselineLabel: 'bare node:http 204', goal: { kind: 'info' } });
    } finally {
      await server.stop();
    }
  }
  await bare.stop();
}
