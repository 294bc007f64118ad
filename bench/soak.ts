/**
 * A soak: steady page views for minutes, the RSS of every role sampled as it runs, and at the end
 * the check that every acknowledged event was processed (the roles' own counters).
 *
 *   npx tsx bench/soak.ts [--mode distributed|embedded] [--minutes 10] [--rate 3000] [--connections 20]
 *
 * distributed: `page-stats ingest` and `page-stats processing` as processes of their own on the
 * 3-broker Kafka mock, influxd and PostgreSQL (the benchmark's services); embedded: `page-stats
 * start` with a data folder of its own. The load is one tracker event per request at a capped
 * rate, well below the ceiling, so the figures show memory over time, not throughput.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { migratedDatabase } from './lib/cli-once.js';
import { rssBytes } from './lib/memory.js';
import { counterTotal } from './lib/metrics.js';
import { spawnCli, type Child } from './lib/processes.js';
import { ADMIN_PASSWORD, ADMIN_TOKEN, Services } from './lib/services.js';
import { log, sleep } from './lib/stats.js';
import { trackerBodies } from './stages/ingest.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'distributed' },
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '3000' },
    connections: { type: 'string', default: '20' },
  },
});
const mode = values.mode;
if (mode !== 'distributed' && mode !== 'embedded') throw new Error(`--mode: distributed or embedded, not ${mode}`);
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const connections = Number(values.connections);
const SAMPLE_MS = 10_000;

/** The sum of a counter's series in a role's /metrics. */
const counter = (role: Child, name: string): Promise<number> => counterTotal(role.url, name);

const services = new Services();
const roles = new Map<string, Child>();
let dataDir: string | undefined;
try {
  if (mode === 'embedded') {
    dataDir = mkdtempSync(join(tmpdir(), 'page-stats-soak-'));
    roles.set('start', await spawnCli('start', { DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '0', ADMIN_TOKEN, ADMIN_PASSWORD }));
  } else {
    const cluster = await services.kafka();
    const topic = await services.topic('bench_soak', 6);
    const influx = await services.influx();
    const databaseUrl = await migratedDatabase(services, 'soak');
    const env = {
      KAFKA_BROKERS: cluster.brokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: 'soak',
      INFLUX_URL: influx.url,
      INFLUX_DB: 'soak',
      DATABASE_URL: databaseUrl,
      RATE_LIMIT_PER_MINUTE: '0',
      ADMIN_TOKEN,
    };
    roles.set('ingest', await spawnCli('ingest', env));
    roles.set('processing', await spawnCli('processing', env));
  }
  const ingest = roles.get('start') ?? roles.get('ingest')!;
  const processing = roles.get('start') ?? roles.get('processing')!;

  const samples: Array<{ at: number; rss: Record<string, number>; behind: number }> = [];
  const sample = async (at: number): Promise<void> => {
    const rss: Record<string, number> = {};
    for (const [name, role] of roles) rss[name] = (rssBytes(role.child.pid!) ?? Number.NaN) / 2 ** 20;
    const behind = (await counter(ingest, 'page_stats_ingest_events_total')) - (await counter(processing, 'page_stats_processing_events_total'));
    samples.push({ at, rss, behind });
  };
  log(`soak: ${mode}, ${minutes} min at ${rate} requests/s on ${connections} connections, RSS every ${SAMPLE_MS / 1000} s`);
  const started = Date.now();
  await sample(0);
  const sampler = setInterval(() => void sample(Date.now() - started), SAMPLE_MS);
  const bodies = trackerBodies(Date.now());
  // overallRate: autocannon's own option (requests per second over all connections), missing from its types
  const options: Parameters<typeof autocannon>[0] & { overallRate: number } = {
    url: `${ingest.url}/page-view`,
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36' },
    requests: bodies.map((body) => ({ method: 'POST', body })),
    connections,
    overallRate: rate,
    duration: minutes * 60,
  };
  const result = await autocannon(options);
  clearInterval(sampler);
  const loadEnded = Date.now();
  // autocannon stops with a request in flight on each connection: the count settles once those are answered
  let acknowledged = await counter(ingest, 'page_stats_ingest_events_total');
  for (let settled = -1; settled !== acknowledged; acknowledged = await counter(ingest, 'page_stats_ingest_events_total')) {
    settled = acknowledged;
    await sleep(1_000);
  }
  while ((await counter(processing, 'page_stats_processing_events_total')) < acknowledged && Date.now() - loadEnded < 300_000) await sleep(250);
  const processed = await counter(processing, 'page_stats_processing_events_total');
  await sample(Date.now() - started);

  const statuses = Object.entries(result.statusCodeStats ?? {})
    .map(([status, s]) => `${status}: ${(s as { count: number }).count}`)
    .join(', ');
  console.log(`\n## Soak, ${mode}: ${minutes} minutes at up to ${rate} requests/s, one tracker event per request\n`);
  console.log(
    `${result.requests.total} requests (${Math.round(result.requests.average)}/s on average; ${statuses}), latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
      `${result.errors} errors, ${result.timeouts} timeouts`,
  );
  console.log(
    `acknowledged (page_stats_ingest_events_total): ${acknowledged}; processed (page_stats_processing_events_total): ${processed}, ${Math.round((Date.now() - loadEnded) / 100) / 10} s after the load ended\n`,
  );
  const names = [...roles.keys()];
  console.log(`| minute | ${names.map((n) => `${n} RSS, MiB`).join(' | ')} | events acknowledged, not yet processed |`);
  console.log(`|---|${names.map(() => '---').join('|')}|---|`);
  for (let m = 0; m <= minutes; m++) {
    // the sample closest to each whole minute
    const s = samples.slice(0, -1).reduce((best, x) => (Math.abs(x.at - m * 60_000) < Math.abs(best.at - m * 60_000) ? x : best));
    console.log(`| ${m} | ${names.map((n) => Math.round(s.rss[n]!)).join(' | ')} | ${s.behind} |`);
  }
  console.log(`| after the load | ${names.map((n) => Math.round(samples.at(-1)!.rss[n]!)).join(' | ')} | ${samples.at(-1)!.behind} |`);
  for (const n of names) {
    const later = samples.filter((s) => s.at >= Math.min(60_000, (minutes * 60_000) / 2) && s.at <= minutes * 60_000 + SAMPLE_MS).map((s) => s.rss[n]!);
    const half = Math.floor(later.length / 2);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    console.log(
      `${n}: from minute 1 on, min ${Math.round(Math.min(...later))} MiB, max ${Math.round(Math.max(...later))} MiB; mean of the first half ${Math.round(mean(later.slice(0, half)))} MiB, of the second half ${Math.round(mean(later.slice(half)))} MiB`,
    );
  }
  if (processed !== acknowledged) {
    const dropped = await counter(processing, 'page_stats_processing_dropped_total');
    console.log(`NOT EQUAL: ${acknowledged} acknowledged, ${processed} processed, ${dropped} dropped (copies or undecodable)`);
    for (const [name, role] of roles) console.log(`--- ${name} output (last part)\n${role.output().slice(-3000)}`);
    process.exitCode = 1;
  }
} finally {
  for (const role of roles.values()) await role.stop();
  await services.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}
