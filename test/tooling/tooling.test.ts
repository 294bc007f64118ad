import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { startKafkaCluster, type KafkaCluster } from './kafka.js';
import { startInfluxDB, type InfluxDB } from './influxdb.js';
import { freePort, freePorts } from './free-port.js';

const TIMEOUT = 60_000;

describe('freePort', () => {
  it('returns distinct bindable ports', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const ports = await freePorts(3);
    expect(new Set(ports).size).toBe(3);
  });
});

describe('Kafka mock cluster', () => {
  const topic = 'tooling-events';
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    cluster = await startKafkaCluster({ brokers: 3, topics: [{ name: topic, partitions: 3 }] });
    kafka = new Kafka({ clientId: 'tooling-test', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
  }, TIMEOUT);

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await cluster?.stop();
  }, TIMEOUT);

  it('listens on three loopback brokers', () => {
    expect(cluster.brokers).toHaveLength(3);
    for (const broker of cluster.brokers) expect(broker).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it(
    'delivers 1,000 messages produced with acks=-1 exactly once to a consumer group',
    async () => {
      const count = 1_000;
      producer = kafka.producer();
      await producer.connect();
      const sent = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
      const started = performance.now();
      const results = await producer.send({ topic, acks: -1, messages: sent });
      const elapsed = performance.now() - started;
      console.info(`kafka mock: produced ${count} messages in ${elapsed.toFixed(0)} ms`);
      expect(results.every((r) => r.errorCode === 0)).toBe(true);
      expect(new Set(results.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));

      consumer = kafka.consumer({ groupId: 'tooling-test-group', maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = new Map<string, string[]>();
      const partitions = new Set<number>();
      let total = 0;
      let resolveAll!: () => void;
      const all = new Promise<void>((resolve) => (resolveAll = resolve));
      const consumeStart = performance.now();
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const key = message.key!.toString();
          received.set(key, [...(received.get(key) ?? []), message.value!.toString()]);
          partitions.add(partition);
          if (++total === count) resolveAll();
        },
      });
      await all;
      console.info(`kafka mock: consumed ${count} messages ${(performance.now() - consumeStart).toFixed(0)} ms after run() (includes group join)`);
      // Anything delivered twice would show up shortly after the last new message.
      await new Promise((r) => setTimeout(r, 500));

      expect(total).toBe(count);
      expect(received.size).toBe(count);
      for (const { key, value } of sent) expect(received.get(key)).toEqual([value]);
      expect(partitions).toEqual(new Set([0, 1, 2]));

      // Disconnect before the next test takes brokers down (see the note in kafka.ts).
      await consumer.disconnect();
      consumer = undefined;
    },
    TIMEOUT,
  );

  it(
    'creates topics after clients connected, and reports mock errors',
    async () => {
      producer ??= kafka.producer();
      await producer.connect();
      // Metadata is fetched per topic on first send, so a topic created after connect() works.
      await cluster.createTopic('tooling-late', 2);
      const [result] = await producer.send({
        topic: 'tooling-late',
        acks: -1,
        messages: [{ key: 'a', value: '1' }],
      });
      expect(result?.errorCode).toBe(0);

      const admin = kafka.admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: ['tooling-late'] });
        expect(topics[0]?.partitions).toHaveLength(2);
      } finally {
        await admin.disconnect();
      }

      await expect(cluster.createTopic('tooling-late', 2)).rejects.toThrow(/already exists/);

      // The trap that makes pre-creating topics necessary: naming an unknown topic creates it.
      await producer.send({ topic: 'tooling-auto', messages: [{ value: 'x' }] });
      await expect(cluster.createTopic('tooling-auto', 2)).rejects.toThrow(/already exists/);
      await expect(cluster.setBrokerDown(9)).rejects.toThrow(/unknown broker/);
      // The command stream keeps working after an error.
      await cluster.setBrokerDown(2);
      await cluster.setBrokerUp(2);
      await cluster.setAllDown();
      await cluster.setAllUp();
    },
    TIMEOUT,
  );
});

describe('InfluxDB', () => {
  const db = 'tooling_test';
  let influx: InfluxDB;

  async function query(q: string): Promise<unknown> {
    const res = await fetch(`${influx.url}/query?db=${db}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q }),
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  async function countPageViews(): Promise<unknown> {
    const body = (await query('SELECT count("value") FROM "page_views"')) as {
      results: { series?: { values: unknown[][] }[] }[];
    };
    return body.results[0]?.series?.[0]?.values[0]?.[1];
  }

  beforeAll(async () => {
    influx = await startInfluxDB();
  }, TIMEOUT);

  afterAll(async () => {
    await influx?.stop();
  }, TIMEOUT);

  it(
    'writes line protocol and reads it back',
    async () => {
      expect(influx.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await query(`CREATE DATABASE ${db}`);
      const now = BigInt(Date.now()) * 1_000_000n;
      const lines = Array.from({ length: 5 }, (_, i) => `page_views,site=example.com,path=/p${i} value=${i + 1}i ${now + BigInt(i)}`).join('\n');
      const write = await fetch(`${influx.url}/write?db=${db}&precision=ns`, {
        method: 'POST',
        body: lines,
      });
      expect(write.status).toBe(204);
      expect(await countPageViews()).toBe(5);
    },
    TIMEOUT,
  );

  it(
    'keeps its data across a restart on the same port, and after SIGKILL',
    async () => {
      await influx.restart();
      expect(influx.running).toBe(true);
      expect(await countPageViews()).toBe(5);

      await influx.kill();
      expect(influx.running).toBe(false);
      await expect(fetch(`${influx.url}/ping`)).rejects.toThrow();
      await influx.start();
      expect(await countPageViews()).toBe(5);
    },
    TIMEOUT,
  );
});
