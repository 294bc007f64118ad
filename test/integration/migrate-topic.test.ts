import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/embedded-app.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { runCli } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';
import { startPrivatePostgres } from '../tooling/postgres.js';

/**
 * `page-stats migrate` owns the Kafka topic (partitions KAFKA_PARTITIONS, replicas
 * KAFKA_REPLICATION_FACTOR); ingest and processing only check that it exists. The mock cluster
 * cannot create topics (its metadata names a controller it does not have, DESIGN.md §8), so
 * what runs here: an existing topic left as it is, a missing one refused at start with a clear
 * message (and not auto-created by asking for it), the mock's refusal reported with the
 * topic's shape, and migrate waiting for PostgreSQL to come up.
 */
describe('page-stats migrate and the Kafka topic', () => {
  let kafka: KafkaCluster;
  let database: { url: string; drop(): Promise<void> };
  let base: Record<string, string>;

  beforeAll(async () => {
    [kafka, database] = await Promise.all([startKafkaCluster({ brokers: 3 }), createTestDatabase('migrate_topic')]);
    await kafka.createTopic('migrate_existing', 3);
    base = { KAFKA_BROKERS: kafka.brokers.join(','), DATABASE_URL: database.url, LOG_LEVEL: 'info', ADMIN_TOKEN, HOST: '127.0.0.1' };
  });
  afterAll(async () => {
    await Promise.allSettled([kafka?.stop(), database?.drop()]);
  });

  const migrate = async (env: Record<string, string>): Promise<{ code: number | null; output: string }> => {
    const p = runCli(['migrate'], { ...base, ...env });
    return { code: await p.exited, output: p.output() };
  };

  it('leaves an existing topic as it is, and says when its partitions differ from KAFKA_PARTITIONS', async () => {
    const same = await migrate({ KAFKA_TOPIC: 'migrate_existing', KAFKA_PARTITIONS: '3' });
    expect(same.code, same.output).toBe(0);
    expect(same.output).toMatch(/"topic":"migrate_existing","partitions":3,"msg":"kafka_topic_exists"/);
    const other = await migrate({ KAFKA_TOPIC: 'migrate_existing', KAFKA_PARTITIONS: '12' });
    expect(other.code, other.output).toBe(0);
    expect(other.output).toMatch(/"partitions":3,"configured":12,"msg":"kafka_topic_partitions_differ"/);
  });

  it('ingest and processing stop at start when the topic is missing, naming page-stats migrate, and do not create it', async () => {
    for (const role of ['ingest', 'processing']) {
      const p = runCli([role], { ...base, KAFKA_TOPIC: 'migrate_missing', PORT: String(await freePort()), INFLUX_URL: 'http://127.0.0.1:9' });
      expect(await p.exited, p.output()).not.toBe(0);
      expect(p.output()).toMatch(/Kafka topic migrate_missing does not exist: run `page-stats migrate` first/);
    }
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain('migrate_missing');
    await admin.disconnect();
  });

  it('reports a broker refusing to create the topic with the topic it wanted, at once', async () => {
    const started = Date.now();
    const result = await migrate({ KAFKA_TOPIC: 'migrate_new', KAFKA_PARTITIONS: '6', KAFKA_REPLICATION_FACTOR: '3' });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/creating Kafka topic migrate_new with 6 partitions and replication factor 3 failed/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('waits for PostgreSQL to accept connections instead of failing', async () => {
    const postgres = await startPrivatePostgres();
    try {
      await postgres.stop();
      const p = runCli(['migrate'], { ...base, KAFKA_TOPIC: 'migrate_existing', KAFKA_PARTITIONS: '3', DATABASE_URL: postgres.url });
      await expect.poll(() => p.output(), { timeout: 30_000 }).toMatch(/"dependency":"PostgreSQL".*"msg":"migrate_waiting_for_service"/);
      expect(p.child.exitCode).toBeNull();
      await postgres.start();
      expect(await p.exited, p.output()).toBe(0);
      expect(p.output()).toMatch(/"dependency":"PostgreSQL".*"msg":"migrate_waiting_for_service"/);
      expect(p.output()).toMatch(/"msg":"migrations_applied"/);
    } finally {
      await postgres.destroy();
    }
  });
});
