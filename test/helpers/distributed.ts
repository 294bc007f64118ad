import { randomBytes } from 'node:crypto';
import type { KafkaCluster } from '../tooling/kafka.js';
import { ADMIN_TOKEN } from './embedded-app.js';

/**
 * A topic of its own on the test cluster and the environment the distributed roles need to use
 * it, InfluxDB and PostgreSQL. A short session timeout lets a killed consumer's partitions move fast.
 */
export async function distributedEnv(
  kafka: KafkaCluster,
  stores: { influxUrl: string; databaseUrl: string },
  extra: Record<string, string> = {},
): Promise<{ topic: string; env: Record<string, string> }> {
  const topic = `page_view_events_${randomBytes(4).toString('hex')}`;
  await kafka.createTopic(topic, 3);
  return {
    topic,
    env: {
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `processing_${topic}`,
      KAFKA_SESSION_TIMEOUT: '6s',
      INFLUX_URL: stores.influxUrl,
      INFLUX_DB: `bucket_${topic}`,
      DATABASE_URL: stores.databaseUrl,
      RATE_LIMIT_PER_MINUTE: '0',
      ADMIN_TOKEN,
      HOST: '127.0.0.1',
      ...extra,
    },
  };
}
