import { Kafka, logLevel, type Admin, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaSettings {
  brokers: string[];
  topic: string;
  partitions: number;
  /** replicas per partition when the topic is created (createTopic) */
  replicationFactor?: number;
  groupId: string;
  clientId: string;
  sessionTimeoutMs?: number;
  /** TLS to the brokers, verified against the system's CAs (and NODE_EXTRA_CA_CERTS) */
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
}

/**
 * The kafkajs client with fail-fast timeouts: a broker outage must become a quick 503 at ingest,
 * not requests hanging for minutes. kafkajs logs go through our logger at warn and above.
 */
export function createKafka(settings: KafkaSettings, logger: Logger): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ...(settings.ssl ? { ssl: true } : {}),
    ...(settings.sasl ? { sasl: settings.sasl as SASLOptions } : {}),
    connectionTimeout: 3_000,
    // the SASL exchange is a few round trips more on every new connection
    ...(settings.sasl ? { authenticationTimeout: 10_000 } : {}),
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 3_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        const fields = { kafka: extra };
        if (level <= logLevel.ERROR) logger.error(fields, `kafka: ${message}`);
        else logger.warn(fields, `kafka: ${message}`);
      },
  });
}

export class TopicMissingError extends Error {
  constructor(topic: string) {
    super(
      `Kafka topic ${topic} does not exist: run \`page-stats migrate\` first (it creates the topic with ` +
        'KAFKA_PARTITIONS partitions and KAFKA_REPLICATION_FACTOR replicas), or create it yourself',
    );
    this.name = 'TopicMissingError';
  }
}

async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * `page-stats migrate`: creates the topic with the configured partitions and replication, so no
 * process that merely uses it (and no broker's auto-creation) decides its shape. An existing
 * topic is left as it is; the partitions it has are returned.
 */
export async function createTopic(kafka: Kafka, settings: KafkaSettings): Promise<{ created: boolean; partitions: number }> {
  return await withAdmin(kafka, async (admin) => {
    // listTopics asks for every topic's metadata, which never auto-creates one.
    if (!(await admin.listTopics()).includes(settings.topic)) {
      const replicationFactor = settings.replicationFactor ?? 3;
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic: settings.topic, numPartitions: settings.partitions, replicationFactor }],
        });
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new Error(
          `creating Kafka topic ${settings.topic} with ${settings.partitions} partitions and replication factor ${replicationFactor} failed: ${reason}`,
          { cause },
        );
      }
      return { created: true, partitions: settings.partitions };
    }
    const meta = await admin.fetchTopicMetadata({ topics: [settings.topic] });
    return { created: false, partitions: meta.topics[0]?.partitions.length ?? 0 };
  });
}

/**
 * At start of ingest and processing: the topic must exist. Asked with listTopics before any
 * client names the topic, because a metadata request naming it would make a broker with
 * auto.create.topics.enable create it with the broker's defaults.
 */
export async function requireTopic(kafka: Kafka, settings: KafkaSettings): Promise<void> {
  const topics = await withAdmin(kafka, async (admin) => await admin.listTopics());
  if (!topics.includes(settings.topic)) throw new TopicMissingError(settings.topic);
}
