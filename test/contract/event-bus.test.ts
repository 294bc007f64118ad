import { afterAll } from 'vitest';
import { EmbeddedBus } from '../../src/adapters/embedded/bus.js';
import { openPgliteWorker } from '../../src/adapters/embedded/pglite-worker.js';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { KafkaEventConsumer } from '../../src/adapters/kafka/consumer.js';
import { KafkaPublisher } from '../../src/adapters/kafka/publisher.js';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';
import { eventBusContract } from './event-bus.contract.js';
import { storeName, useSchema } from './isolation.js';

// One server per adapter for the file; each test gets a log of its own in it.
let embedded: SqlDatabase | undefined;
let cluster: KafkaCluster | undefined;
afterAll(async () => {
  await embedded?.close();
  await cluster?.stop();
});

eventBusContract('embedded (PGlite log in its thread)', async (testName) => {
  embedded ??= await openPgliteWorker(undefined);
  const db = embedded;
  await useSchema(db, `bus_${storeName(testName)}`);
  const publisher = await EmbeddedBus.open(db, { batchSize: 64 });
  return {
    publisher,
    consumer: async () => await EmbeddedBus.open(db, { batchSize: 64 }),
    dispose: async () => await publisher.close(),
  };
});

eventBusContract('Kafka (3-broker cluster)', async (testName) => {
  cluster ??= await startKafkaCluster({ brokers: 3 });
  const topic = `page_view_events_${storeName(testName)}`;
  await cluster.createTopic(topic, 3);
  const settings = { brokers: cluster.brokers, topic, partitions: 3, groupId: `group_${topic}`, clientId: 'contract' };
  const logger = createLogger('error');
  const kafka = createKafka(settings, logger);
  const publisher = new KafkaPublisher(kafka, logger, { topic });
  return {
    publisher,
    consumer: async () => new KafkaEventConsumer(kafka, logger, { topic, groupId: settings.groupId, batchSize: 64, sessionTimeoutMs: 6_000 }),
    dispose: async () => await publisher.close(),
  };
});
