import autocannon from 'autocannon';
import type { BenchContext } from '../lib/context.js';
import { BROWSER_UA } from '../lib/load.js';
import { spawnCli, type Child } from '../lib/processes.js';
import { num } from '../lib/report.js';
import { cpuSeconds, log, median } from '../lib/stats.js';
import { trackerBodies } from '../stages/ingest.js';

export interface IngestRun {
  rps: number;
  p99: number;
  /** ingest's CPU time per acknowledged request */
  cpuUs: number;
}

/**
 * One autocannon run of tracker-like requests (one event, text/plain). Every request carries one
 * header with a value of its own (autocannon's `[<id>]`), `Idempotency-Key` when `keyed`, an
 * unrelated one otherwise: both sides send the same bytes and the load generator does the same work.
 */
async function run(server: Child, keyed: boolean, seconds: number, connections: number): Promise<IngestRun> {
  const pid = server.child.pid;
  const cpu0 = cpuSeconds(pid);
  const options = {
    url: `${server.url}/page-view`,
    connections,
    duration: seconds,
    timeout: 30,
    idReplacement: true,
    headers: {
      'user-agent': BROWSER_UA,
      'content-type': 'text/plain;charset=UTF-8',
      origin: 'https://www.example.com',
      [keyed ? 'idempotency-key' : 'x-bench-request']: '[<id>]',
    },
    requests: trackerBodies(Date.now()).map((body) => ({ method: 'POST', body })),
  };
  const result = await autocannon(options as Parameters<typeof autocannon>[0]);
  const cpu1 = cpuSeconds(pid);
  const ok = result.statusCodeStats?.['202']?.count ?? 0;
  const answered = Object.values(result.statusCodeStats ?? {}).reduce((n, s) => n + s.count, 0);
  if (ok === 0 || answered !== ok) throw new Error(`ingest answered ${answered - ok} of ${answered} requests with another status than 202`);
  return { rps: ok / result.duration, p99: result.latency.p99, cpuUs: cpu0 === undefined || cpu1 === undefined ? Number.NaN : ((cpu1 - cpu0) / ok) * 1e6 };
}

/**
 * The request identity in ingest: `page-stats ingest` on the Kafka mock, tracker-like single-event
 * requests without and with an `Idempotency-Key` (then the key is the request id, and the request
 * goes to its key's partition), alternately. A request without a key gets a generated id; what
 * that costs against a build without ids is measured with `--src` (see BENCHMARKS.md).
 */
export async function ingestIdentityCost(ctx: BenchContext): Promise<{ plain: IngestRun; keyed: IngestRun }> {
  const { options, services } = ctx;
  const cluster = await services.kafka();
  const topic = await services.topic('bench_identity_ingest', 3);
  const ingest = await spawnCli('ingest', { KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_TOPIC: topic, RATE_LIMIT_PER_MINUTE: '0' });
  const runs: Record<'plain' | 'keyed', IngestRun[]> = { plain: [], keyed: [] };
  try {
    for (let round = 1; round <= options.rounds; round++) {
      log(`identity round ${round}/${options.rounds}: ingest without, then with Idempotency-Key`);
      for (const keyed of [false, true]) {
        if (options.warmupSeconds > 0) await run(ingest, keyed, options.warmupSeconds, options.connections);
        const r = await run(ingest, keyed, options.durationSeconds, options.connections);
        runs[keyed ? 'keyed' : 'plain'].push(r);
        ctx.detail(
          `identity round ${round}, ingest ${keyed ? 'with Idempotency-Key' : 'without key (generated id)'}: ${num(r.rps)} req/s, p99 ${r.p99} ms, CPU ${r.cpuUs.toFixed(1)} µs/request`,
        );
      }
    }
  } finally {
    await ingest.stop();
  }
  const summary = (list: IngestRun[]): IngestRun => ({
    rps: median(list.map((r) => r.rps)),
    p99: median(list.map((r) => r.p99)),
    cpuUs: median(list.map((r) => r.cpuUs)),
  });
  return { plain: summary(runs.plain), keyed: summary(runs.keyed) };
}
