import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { spawnCli, type Child } from '../lib/processes.js';
import { ADMIN_PASSWORD, ADMIN_TOKEN } from '../lib/services.js';

let topic: Promise<string> | undefined;

/**
 * `page-stats ingest`, the role that serves the admin API and the dashboard (and takes page views:
 * the process a heavy admin request must never take down), against the large data set, configured
 * as in the distributed deployment: the tests' Kafka mock cluster and influxd, DATA_DIR temporary.
 */
export async function startAdminServer(ctx: BenchContext, databaseUrl: string): Promise<Child> {
  const [cluster, influx] = await Promise.all([ctx.services.kafka(), ctx.services.influx()]);
  topic ??= ctx.services.topic('bench_large', 1);
  return await spawnCli(
    'ingest',
    {
      KAFKA_BROKERS: cluster.brokers.join(','),
      KAFKA_TOPIC: await topic,
      DATABASE_URL: databaseUrl,
      // As deployed: the realtime panel reads InfluxDB. Without it the process would open an
      // embedded PGlite event store, which alone holds ~700 MiB.
      INFLUX_URL: influx.url,
      ADMIN_TOKEN,
      ADMIN_PASSWORD,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'page-stats-bench-large-')),
      RATE_LIMIT_PER_MINUTE: '0',
    },
    ctx.nodeArgs('large'),
  );
}

export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** GET with the admin token; the body as text, or an error naming the status. */
export async function getText(url: string): Promise<string> {
  const res = await fetch(url, { headers: auth });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}
