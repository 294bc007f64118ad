import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/embedded-app.js';
import { distributedEnv } from '../helpers/distributed.js';
import { PageViewLoad, viewsByPage } from '../helpers/load.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';
import { startPrivatePostgres, type PrivatePostgres } from '../tooling/postgres.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? 30_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readyz(url: string): Promise<{ status: number; body: { status: string; checks: Record<string, boolean> } }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.json() };
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(250);
  }
}

/**
 * Faults on the real services under load: the distributed pipeline as separate processes on a
 * 3-broker Kafka cluster, InfluxDB and a PostgreSQL server of the test's own, with a steady
 * stream of page views running throughout. FAULT_OUTAGE_MS shortens the 30 s outages.
 */
describe('faults survived under load, nothing lost, nothing counted twice', () => {
  let kafka: KafkaCluster;
  let influx: InfluxDB;
  let postgres: PrivatePostgres;
  let env: Record<string, string>;
  let ingestPort: number;
  let processingPort: number;
  let ingest: CliProcess;
  let processing: CliProcess;
  const all: CliProcess[] = [];
  const ingestUrl = (): string => `http://127.0.0.1:${ingestPort}`;
  const processingUrl = (): string => `http://127.0.0.1:${processingPort}`;
  const load = new PageViewLoad(ingestUrl, `faults-${randomBytes(3).toString('hex')}`);
  let topic: string;

  const spawn = (args: string[], extra: Record<string, string> = {}): CliProcess => {
    const p = runCli(args, { ...env, ...extra });
    all.push(p);
    return p;
  };
  const startIngest = async (): Promise<void> => {
    ingest = spawn(['ingest'], { PORT: String(ingestPort) });
    await waitForHttp(`${ingestUrl()}/healthz`, 60_000, ingest);
  };
  const startProcessing = async (): Promise<void> => {
    processing = spawn(['processing'], { PORT: String(processingPort) });
    await waitForHttp(`${processingUrl()}/healthz`, 60_000, processing);
  };
  const consolidate = async (): Promise<number | null> => {
    const run = spawn(['consolidate']);
    return await run.exited;
  };
  const committedOffsets = async (): Promise<string> => {
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: env.KAFKA_GROUP_ID!, topics: [topic] });
      return JSON.stringify(offsets[0]?.partitions.map((p) => [p.partition, p.offset]).sort());
    } finally {
      await admin.disconnect();
    }
  };

  /** On a failure: where each missing request is in the log, in InfluxDB and in PostgreSQL, and the roles' logs. */
  const whereAre = async (pages: string[]): Promise<string> => {
    const lines: string[] = [`committed ${await committedOffsets()}`];
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    lines.push(`end ${JSON.stringify(ends)}`);
    const wanted = new Set(pages);
    const found: string[] = [];
    const consumer = client.consumer({ groupId: `diagnose-${randomBytes(3).toString('hex')}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    const total = ends.reduce((n, p) => n + Number(p.high), 0);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen++;
          const v = message.value?.toString() ?? '';
          for (const page of wanted) if (v.includes(`"${page}"`)) found.push(`p${partition}@${message.offset} ${v}`);
          if (seen >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    lines.push(`in the log (${seen} of ${total} messages read):`, ...found);
    for (const page of pages) {
      const q = `SELECT "t", "page", "partition" FROM page_views WHERE "page" = '${page}'`;
      const res = await fetch(`${influx.url}/query?db=${encodeURIComponent(env.INFLUX_DB!)}&q=${encodeURIComponent(q)}`);
      lines.push(`influx ${page}: ${await res.text()}`);
    }
    const { default: pg } = await import('pg');
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    for (const table of ['pending_views', 'region_daily']) {
      const rows = await db.query(`SELECT * FROM ${table} WHERE page_name = ANY($1)`, [pages]).catch((e: Error) => ({ rows: [e.message] }));
      lines.push(`${table}: ${JSON.stringify(rows.rows)}`);
    }
    const positions = await db.query('SELECT * FROM processed_offsets').catch((e: Error) => ({ rows: [e.message] }));
    lines.push(`positions: ${JSON.stringify(positions.rows)}`);
    await db.end();
    const dir = mkdtempSync(join(tmpdir(), 'faults-'));
    for (const [i, p] of all.entries()) writeFileSync(join(dir, `${i}-${p.child.spawnargs.slice(2).join('_')}.log`), p.output());
    lines.push(`role logs: ${dir}`);
    return lines.join('\n');
  };

  beforeAll(async () => {
    [kafka, influx, postgres] = await Promise.all([startKafkaCluster({ brokers: 3 }), startInfluxDB(), startPrivatePostgres()]);
    ({ topic, env } = await distributedEnv(
      kafka,
      { influxUrl: influx.url, databaseUrl: postgres.url },
      {
        PROCESSING_BATCH_SIZE: '500',
        SHUTDOWN_TIMEOUT: '10s',
        // every request of the load has a page name of its own: lift the cardinality cap
        MAX_PAGE_NAMES: '10000000',
      },
    ));
    expect(await spawn(['migrate']).exited).toBe(0);
    [ingestPort, processingPort] = [await freePort(), await freePort()];
    await Promise.all([startIngest(), startProcessing()]);
    // Steady, not flat out: the mock keeps only ~5 MB per partition, and a backlog past that is truncated.
    load.start(4, 20);
    await eventually(async () => load.acknowledged.size > 100);
  });

  afterAll(async () => {
    await load.stop();
    for (const p of all) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.allSettled([kafka?.stop(), influx?.stop(), postgres?.destroy()]);
  });

  it('kill -9 of ingest: restarted, acknowledged events survive', async () => {
    const before = load.acknowledged.size;
    ingest.child.kill('SIGKILL');
    await ingest.exited;
    await sleep(500);
    await startIngest();
    await eventually(async () => load.acknowledged.size > before + 100);
  });

  it('SIGTERM of ingest and processing under load: both exit 0 within SHUTDOWN_TIMEOUT, then restart', async () => {
    ingest.child.kill('SIGTERM');
    processing.child.kill('SIGTERM');
    expect(await ingest.exited).toBe(0); // 1 would mean the shutdown deadline fired
    expect(await processing.exited).toBe(0);
    await Promise.all([startIngest(), startProcessing()]);
    const before = load.acknowledged.size;
    await eventually(async () => load.acknowledged.size > before + 100);
  });

  it('kill -9 of processing while it consumes: restarted, consumption resumes', async () => {
    processing.child.kill('SIGKILL');
    await processing.exited;
    await startProcessing();
    await eventually(async () => (await readyz(processingUrl())).status === 200);
  });

  it('kill -9 of the consolidator mid-run: the next run exits 0 and repairs the window', async () => {
    const run = spawn(['consolidate']);
    await sleep(300);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await consolidate()).toBe(0);
  });

  it('InfluxDB stopped for 30 s: processing backs off without committing offsets, /readyz reports it', async () => {
    await eventually(async () => (await readyz(processingUrl())).status === 200);
    await influx.kill('SIGKILL');
    await eventually(async () => (await readyz(processingUrl())).body.checks.eventStore === false, 20_000);
    const ready = await readyz(processingUrl());
    expect(ready.status).toBe(503);
    await sleep(3_000); // let any batch in hand fail
    const offsets = await committedOffsets();
    const acknowledgedBefore = load.acknowledged.size;
    await sleep(Math.max(0, OUTAGE_MS - 3_000));
    expect(load.acknowledged.size).toBeGreaterThan(acknowledgedBefore); // ingest still takes page views
    expect(await committedOffsets()).toBe(offsets); // nothing committed while nothing was stored
    // A recompute needs the event store; a scheduled run folds what processing recorded and does not.
    const recompute = spawn(['consolidate', '--recompute']);
    expect(await recompute.exited).not.toBe(0);
    expect(await consolidate()).toBe(0);
    await influx.start();
    await eventually(async () => (await readyz(processingUrl())).status === 200);
    await eventually(async () => (await committedOffsets()) !== offsets);
  });

  it('PostgreSQL stopped during a consolidation: it exits non-zero, /readyz reports it, the next run repairs', async () => {
    const run = spawn(['consolidate', '--from', new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10)]);
    await sleep(150);
    await postgres.stop();
    expect(await run.exited).not.toBe(0);
    const ready = await readyz(ingestUrl());
    // ingest keeps taking page views: its readiness follows the event log, /readyz reports the rest
    expect(ready.status).toBe(200);
    expect(ready.body.checks.rollupStore).toBe(false);
    expect(ready.body.checks.eventLog).toBe(true);
    await postgres.start();
    await eventually(async () => (await readyz(ingestUrl())).body.checks.rollupStore === true);
    expect(await consolidate()).toBe(0);
  });

  it('Kafka unreachable for 30 s: ingest answers 503 + Retry-After and acknowledges nothing it did not store', async () => {
    const unavailableBefore = load.unavailable.length;
    await kafka.setAllDown();
    const downAt = Date.now();
    await eventually(async () => (await readyz(ingestUrl())).body.checks.eventLog === false, 20_000);
    expect((await readyz(ingestUrl())).status).toBe(503);
    await eventually(async () => load.unavailable.length > unavailableBefore + 10, 20_000);
    const during = load.unavailable.slice(unavailableBefore);
    expect(during.every((u) => u.retryAfter !== null && Number(u.retryAfter) > 0)).toBe(true);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    await kafka.setAllUp();
    await eventually(async () => (await readyz(ingestUrl())).status === 200, 60_000);
    const ackedAfter = load.acknowledged.size;
    await eventually(async () => load.acknowledged.size > ackedAfter + 100, 60_000);
    await eventually(async () => (await readyz(processingUrl())).status === 200, 60_000);
  });

  it('after recovery the API counts equal the acknowledged events exactly', async () => {
    await load.stop();
    expect(load.count(503)).toBeGreaterThan(0);
    const expected = load.acknowledgedEvents;
    let problems: string[] = [];
    await eventually(async () => {
      expect(await consolidate()).toBe(0);
      // every request has a page of its own: more rows than one page of the endpoint holds
      const byPage = await viewsByPage(
        `${ingestUrl()}/aggregated-data/region-daily?region=DE&startTime=${Date.now() - 3 * 86_400_000}&endTime=${Date.now() + 86_400_000}`,
        auth,
      );
      problems = load.verify(byPage);
      return problems.length === 0;
    }, 150_000).catch(() => {});
    if (problems.length > 0) console.log(await whereAre(problems.slice(0, 5).map((p) => p.split(':')[0]!)));
    expect(problems.slice(0, 20)).toEqual([]);
    expect(expected).toBeGreaterThan(1_000);
  }, 240_000);
});
