// What kafkajs costs per event when the events of one produce call travel as one Kafka message
// each (the topic's format) or packed into one message (a JSON array): the same tracker-like events,
// produced to the 3-broker mock (12 partitions, one call in flight per partition, acks from all
// in-sync replicas, as the publisher does) and consumed back in a consumer group with JSON.parse of
// every value, alternately, twice. Figures are this process's CPU per event (the mock is another
// process). The first pair includes the warm-up of the JIT; read the second.
// Usage: tsx bench/ingest/kafka-packing-probe.ts [events per produce call, default 20]
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { startKafkaCluster } from '../../test/tooling/kafka.js';

const group = Number(process.argv[2] ?? 20);
// The mock keeps ~5 MB per partition: 96,000 events fit on 12 partitions, so every one is read back.
const total = 96_000;
const partitions = 12;

const event = (n: number) => ({
  timestamp: 1_765_100_000_000 + n,
  region: 'DE',
  pageName: `/docs/page-${n % 5_000}`,
  bot: false,
  id: `ingest-0.1234.1765100000000.${n}`,
  i: 0,
});

const cpuMicros = (since: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(since);
  return c.user + c.system;
};

const cluster = await startKafkaCluster({ brokers: 3 });
const kafka = new Kafka({ clientId: 'packing-probe', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
try {
  console.log(`${total} events, ${group} per produce call, ${partitions} partitions`);
  for (const packed of [false, true, false, true]) {
    const label = packed ? 'packed (one message per call)' : 'one message per event';
    const topic = `probe_${packed ? 'packed' : 'single'}_${Date.now()}`;
    await cluster.createTopic(topic, partitions, 3);
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1 });
    await producer.connect();
    let produced = 0;
    const produceStart = process.cpuUsage();
    await Promise.all(
      Array.from({ length: partitions }, async (_, partition) => {
        while (produced < total) {
          const events = Array.from({ length: group }, () => event(produced++));
          const messages = packed ? [{ partition, value: JSON.stringify(events) }] : events.map((e) => ({ partition, value: JSON.stringify(e) }));
          await producer.send({ topic, acks: -1, timeout: 5_000, compression: CompressionTypes.None, messages });
        }
      }),
    );
    const produceUs = cpuMicros(produceStart) / produced;
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `probe_${topic}`, maxBytesPerPartition: 4 << 20 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    let consumeStart: NodeJS.CpuUsage | undefined;
    let resolve!: () => void;
    const allRead = new Promise<void>((r) => {
      resolve = r;
    });
    await consumer.run({
      partitionsConsumedConcurrently: partitions,
      eachBatch: async ({ batch }) => {
        consumeStart ??= process.cpuUsage();
        for (const m of batch.messages) {
          if (m.value === null) continue;
          const v: unknown = JSON.parse(m.value.toString('utf8'));
          consumed += Array.isArray(v) ? v.length : 1;
        }
        if (consumed >= produced) resolve();
      },
    });
    await allRead;
    const consumeUs = cpuMicros(consumeStart!) / consumed;
    await consumer.disconnect();
    console.log(`${label}: produce ${produceUs.toFixed(2)} µs, consume ${consumeUs.toFixed(2)} µs of CPU per event`);
  }
} finally {
  await cluster.stop();
}
