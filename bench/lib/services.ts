import { Kafka, logLevel } from 'kafkajs';
import { createTestDatabase } from '../../test/helpers/postgres.js';
import { startInfluxDB, type InfluxDB } from '../../test/tooling/influxdb.js';
import { startKafkaCluster, type KafkaCluster } from '../../test/tooling/kafka.js';
import { log } from './stats.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const ADMIN_PASSWORD = 'bench admin password';

/**
 * The real services a stage needs, started on first use with the tests' own tooling
 * (test/tooling: the librdkafka mock cluster, influxd 1.6.7 on a free port; PostgreSQL on
 * 127.0.0.1:5432 with a database of its own) and stopped at the end of the run.
 */
export class Services {
  private kafkaCluster: Promise<KafkaCluster> | undefined;
  private influxDb: Promise<InfluxDB> | undefined;
  private readonly databases: Array<{ drop(): Promise<void> }> = [];
  private readonly clients: Kafka[] = [];

  kafka(): Promise<KafkaCluster> {
    this.kafkaCluster ??= startKafkaCluster({ brokers: 3 }).then((k) => {
      log(`kafka mock cluster: ${k.brokers.join(',')}`);
      return k;
    });
    return this.kafkaCluster;
  }

  influx(): Promise<InfluxDB> {
    this.influxDb ??= startInfluxDB().then((i) => {
      log(`influxd: ${i.url}`);
      return i;
    });
    return this.influxDb;
  }

  async postgres(label: string): Promise<string> {
    const db = await createTestDatabase(`bench_${label}`);
    this.databases.push(db);
    return db.url;
  }

  /** A kafkajs client for the bench itself (producing test data, reading offsets). */
  async kafkaClient(): Promise<Kafka> {
    const cluster = await this.kafka();
    const client = new Kafka({ clientId: 'page-stats-bench', brokers: cluster.brokers, logLevel: logLevel.ERROR });
    this.clients.push(client);
    return client;
  }

  async topic(name: string, partitions: number): Promise<string> {
    const cluster = await this.kafka();
    await cluster.createTopic(name, partitions, 3);
    return name;
  }

  async stop(): Promise<void> {
    const stops: Array<Promise<unknown>> = this.databases.map((d) => d.drop());
    if (this.kafkaCluster) stops.push(this.kafkaCluster.then((k) => k.stop()));
    if (this.influxDb) stops.push(this.influxDb.then((i) => i.stop()));
    await Promise.allSettled(stops);
  }
}
