// Exactly once under lost acknowledgements: a proxy between ingest and Kafka drops produce
// responses after the brokers stored the records, so the producer sends them again and the
// topic holds copies. Every acknowledged request must be counted exactly once, every failed
// one at most once. Then a client retrying with an Idempotency-Key across an ingest restart,
// and a message that is not an event.
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distributedEnv } from '../helpers/distributed.js';
import { ADMIN_TOKEN, BROWSER_UA } from '../helpers/embedded-app.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';
import { startKafkaProxy, type KafkaProxy } from '../tooling/kafka-proxy.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DAY = 86_400_000;

describe('exactly once when acknowledgements are lost', () => {
  let kafka: KafkaCluster;
  let influx: InfluxDB;
  let proxy: KafkaProxy;
  let database: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let topic: string;
  let ingestPort: number;
  let processingPort: number;
  let ingest: CliProcess;
  const procs: CliProcess[] = [];
  const ingestUrl = () => `http://127.0.0.1:${ingestPort}`;

  const spawn = (args: string[], extra: Record<string, string> = {}): CliProcess => {
    const p = runCli(args, { ...env, ...extra });
    procs.push(p);
    return p;
  };
  const startIngest = async () => {
    // ingest talks to Kafka only through the proxy
    ingest = spawn(['ingest'], { PORT: String(ingestPort), KAFKA_BROKERS: proxy.brokers.join(',') });
    await waitForHttp(`${ingestUrl()}/healthz`, 60_000, ingest);
  };
  const post = async (events: object[], headers: Record<string, string> = {}) =>
    await fetch(`${ingestUrl()}/page-view`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': BROWSER_UA, ...headers },
      body: JSON.stringify(events),
    }).catch(() => undefined);

  /** Views per page name today, after a consolidation run. */
  const viewsByPage = async (): Promise<Map<string, number>> => {
    const run = spawn(['consolidate']);
    expect(await run.exited, run.output()).toBe(0);
    const res = await fetch(`${ingestUrl()}/aggregated-data/breakdown?by=page&limit=1000&startTime=${Date.now() - DAY}`, { headers: auth });
    const body = (await res.json()) as { rows: Array<{ key: string; views: number }> };
    return new Map(body.rows.map((r) => [r.key, r.views]));
  };
  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${processingPort}/metrics`, { headers: auth })).text();
    return [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
  };

  beforeAll(async () => {
    [kafka, influx, database] = await Promise.all([startKafkaCluster({ brokers: 3 }), startInfluxDB(), createTestDatabase('lost_acks')]);
    ({ env, topic } = await distributedEnv(kafka, { influxUrl: influx.url, databaseUrl: database.url }, { PROCESSING_BATCH_SIZE: '100' }));
    proxy = await startKafkaProxy(kafka.brokers);
    const migrate = spawn(['migrate']);
    expect(await migrate.exited, migrate.output()).toBe(0);
    [ingestPort, processingPort] = await Promise.all([freePort(), freePort()]);
    const processing = spawn(['processing'], { PORT: String(processingPort) });
    await Promise.all([startIngest(), waitForHttp(`http://127.0.0.1:${processingPort}/healthz`, 60_000, processing)]);
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.allSettled([proxy?.stop(), kafka?.stop(), influx?.stop(), database?.drop()]);
  });

  it('copies stored by retried produce requests are counted once', async () => {
    // Every third produce response is lost after the brokers stored the records.
    proxy.setDrop((n) => n % 3 === 0);
    const requests = Array.from({ length: 240 }, (_, i) => ({
      page: `/lost/${i}`,
      events: Array.from({ length: 1 + (i % 3) }, () => ({ pageName: `/lost/${i}`, region: 'DE' })),
    }));
    const status = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < requests.length) {
          const r = requests[next++]!;
          status.set(r.page, (await post(r.events))?.status ?? 0);
        }
      }),
    );
    proxy.setDrop(() => false);
    expect(proxy.dropped).toBeGreaterThanOrEqual(10);
    const acknowledged = requests.filter((r) => status.get(r.page) === 202);
    expect(acknowledged.length).toBeGreaterThan(requests.length / 2);

    // The topic holds more messages than events were sent once: the lost acknowledgements made copies.
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const stored = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const sentOnce = requests.reduce((n, r) => n + r.events.length, 0);
    expect(stored).toBeGreaterThan(sentOnce);

    let views = new Map<string, number>();
    await expect
      .poll(
        async () => {
          views = await viewsByPage();
          return acknowledged.every((r) => (views.get(r.page) ?? 0) >= r.events.length);
        },
        { timeout: 90_000, interval: 1_000 },
      )
      .toBe(true);
    for (const r of requests) {
      const counted = views.get(r.page) ?? 0;
      if (status.get(r.page) === 202) expect(counted, r.page).toBe(r.events.length);
      else expect([0, r.events.length], r.page).toContain(counted);
    }
    expect(await metric(/^page_stats_processing_dropped_total\{reason="copy"\} (\d+)/gm)).toBeGreaterThan(0);
  });

  it('a client retrying with the same Idempotency-Key across an ingest restart is counted once, with the same answer', async () => {
    const events = [{ pageName: '/keyed/a' }, { pageName: '/keyed/a' }, { pageName: '/keyed/b' }];
    const first = await post(events, { 'idempotency-key': 'order-7f3a9c' });
    expect(first?.status).toBe(202);
    const firstBody = await first!.json();
    ingest.child.kill('SIGKILL');
    await ingest.exited;
    await startIngest();
    const again = await post(events, { 'idempotency-key': 'order-7f3a9c' });
    expect(again?.status).toBe(202);
    expect(await again!.json()).toEqual(firstBody);
    expect((await post([{ pageName: '/keyed/b' }], { 'idempotency-key': 'another-key' }))?.status).toBe(202);
    const bad = await post(events, { 'idempotency-key': 'has spaces in it' });
    expect(bad?.status).toBe(400);
    await expect
      .poll(
        async () => {
          const views = await viewsByPage();
          return [views.get('/keyed/a'), views.get('/keyed/b')];
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toEqual([2, 2]);
  });

  it('a message that is not an event is kept with its place in the log and counted in a metric', async () => {
    const producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: false });
    await producer.connect();
    const [meta] = await producer.send({ topic, messages: [{ partition: 1, value: 'not json {' }] });
    await producer.disconnect();
    await expect.poll(async () => await metric(/^page_stats_processing_dropped_total\{reason="undecodable"\} (\d+)/gm), { timeout: 30_000 }).toBe(1);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('SELECT log_partition, log_offset::text AS o, payload, reason FROM dead_letters');
    await client.end();
    expect(rows).toEqual([{ log_partition: 1, o: meta!.baseOffset, payload: Buffer.from('not json {').toString('base64'), reason: 'not a page-view event' }]);
    // processing goes on: a page view after it is counted
    expect((await post([{ pageName: '/after-poison' }]))?.status).toBe(202);
    await expect.poll(async () => (await viewsByPage()).get('/after-poison'), { timeout: 60_000, interval: 1_000 }).toBe(1);
  });
});
