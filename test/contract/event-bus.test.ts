import { EmbeddedBus } from '../../src/adapters/embedded/bus.js';
import { openPgliteWorker } from '../../src/adapters/embedded/pglite-worker.js';
import { eventBusContract } from './event-bus.contract.js';

eventBusContract('embedded (PGlite log in its thread)', async () => {
  const db = await openPgliteWorker(undefined);
  const publisher = await EmbeddedBus.open(db, { batchSize: 64 });
  return {
    publisher,
    consumer: async () => await EmbeddedBus.open(db, { batchSize: 64 }),
    dispose: async () => {
      await publisher.close();
      await db.close();
    },
  };
});

import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { KafkaEventConsumer } from '../../src/adapters/kafka/consumer.js';
import { KafkaPublisher } from '../../src/adapters/kafka/publisher.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startKafkaCluster, type KafkaCluster } from '../tooling/kafka.js';

let cluster: KafkaCluster | undefined;
afterAll(async () => await cluster?.stop());

eventBusContract('Kafka (3-broker cluster)', async () => {
  cluster ??= await startKafkaCluster({ brokers: 3 });
  const topic = `page_view_events_${randomBytes(4).toString('hex')}`;
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
