import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaSettings {
  brokers: string[];
  topic: string;
  partitions: number;
  groupId: string;
  clientId: string;
  sessionTimeoutMs?: number;
}

/**
 * The kafkajs client with fail-fast timeouts: a broker outage must become a quick 503 at ingest,
 * not requests hanging for minutes. kafkajs logs go through our logger at warn and above.
 */
export function createKafka(settings: KafkaSettings, logger: Logger): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3_000,
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

/** Creates the topic when it is missing; an existing topic is left as it is. */
export async function ensureTopic(kafka: Kafka, settings: KafkaSettings): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(settings.topic)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: settings.topic, numPartitions: settings.partitions, replicationFactor: -1 }],
      });
    }
  } finally {
    await admin.disconnect();
  }
}
