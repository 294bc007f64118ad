import { CompressionTypes, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { PageViewEvent } from '../../domain/event.js';
import type { EventPublisher } from '../../ports/event-bus.js';
import { GroupCommitQueue } from '../group-commit.js';
import { encodeEvent } from './codec.js';

export interface KafkaPublisherOptions {
  topic: string;
  /** events per produce request */
  maxBatch?: number;
  /** events waiting for a produce request; past it ingest answers 503 at once */
  maxQueued?: number;
  registry?: Registry;
  /**
   * Idempotent producer: a produce retried after its acknowledgement was lost is stored once.
   * `auto`: on, unless the cluster answers but hands out no producer ids (as librdkafka's mock
   * cluster does); then off, with a warning and the gauge at 0, and processing drops the copies.
   */
  idempotent?: boolean | 'auto';
}

/**
 * Publishes with acks from all in-sync replicas.
 *
 * All events of one request go to one partition, and each produce call writes to one partition:
 * a partition's record batch is stored whole or not at all, so a request is acknowledged exactly
 * when all its events are stored, and a failure never leaves part of it behind to be counted
 * after the client's retry. Requests arriving together share a produce call (single sends reach
 * a few thousand a second, batches over a hundred thousand): a request without a key joins the
 * partition whose call gathers the most company soonest (GroupCommitQueue.pickLane), not the next
 * in turn. One call per partition is in flight, and the queue is bounded: overload becomes a fast
 * 503, not a pile-up.
 */
export class KafkaPublisher implements EventPublisher {
  private producer: Producer;
  private readonly kafka: Kafka;
  private readonly queue: GroupCommitQueue<PageViewEvent>;
  private partitions = 0;
  private connecting: Promise<void> | undefined;
  private connected = false;
  private admin: Admin | undefined;
  private readonly idempotentGauge: Gauge | undefined;
  private idempotent: boolean | 'auto';

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly options: KafkaPublisherOptions,
  ) {
    this.kafka = kafka;
    this.idempotent = options.idempotent ?? 'auto';
    this.producer = this.newProducer(this.idempotent !== false);
    this.idempotentGauge = options.registry
      ? new Gauge({ name: 'page_stats_kafka_idempotent', help: '1 when the Kafka producer is idempotent', registers: [options.registry] })
      : undefined;
    this.queue = new GroupCommitQueue((events, partition) => this.send(events, partition), {
      maxGroup: options.maxBatch ?? 2_000,
      maxQueued: options.maxQueued ?? 50_000,
      registry: options.registry,
    });
  }

  /** One request in flight per connection keeps retries in order. */
  private newProducer(idempotent: boolean): Producer {
    const producer = this.kafka.producer({ allowAutoTopicCreation: false, idempotent, maxInFlightRequests: 1 });
    producer.on(producer.events.DISCONNECT, () => {
      this.connected = false;
    });
    this.idempotentGauge?.set(idempotent ? 1 : 0);
    return producer;
  }

  /** An idempotent producer asks for a producer id when it connects; the cluster answered but had none. */
  private async connectProducer(): Promise<void> {
    try {
      await this.producer.connect();
    } catch (err) {
      const name = (err as { name?: string }).name;
      const type = (err as { type?: string }).type ?? '';
      const noProducerIds =
        name === 'KafkaJSBrokerNotFound' ||
        (name === 'KafkaJSProtocolError' && ['UNSUPPORTED_VERSION', 'CLUSTER_AUTHORIZATION_FAILED', 'INVALID_REQUEST'].includes(type));
      if (this.idempotent !== 'auto' || !noProducerIds) throw err;
      this.logger.warn({ err }, 'kafka_idempotence_unavailable');
      this.idempotent = false;
      this.producer = this.newProducer(false);
      await this.producer.connect();
    }
  }

  /** Connects and learns the topic's partitions (once; again after a disconnect). */
  private async connect(): Promise<void> {
    if (this.connected) return;
    this.connecting ??= (async () => {
      await this.connectProducer();
      this.admin ??= this.kafka.admin();
      await this.admin.connect();
      const partitions = await this.partitionCount();
      if (partitions === 0) throw new Error(`topic ${this.options.topic} has no partitions`);
      this.partitions = partitions;
      this.connected = true;
    })().finally(() => {
      this.connecting = undefined;
    });
    await this.connecting;
  }

  async publish(events: readonly PageViewEvent[], options: { key?: string | undefined } = {}): Promise<void> {
    if (events.length === 0) return;
    // Refused before connecting too: while the brokers are away, overload still answers at once.
    this.queue.admit(events.length);
    await this.connect();
    const partition = options.key === undefined ? this.queue.pickLane(this.partitions) : stableHash(options.key) % this.partitions;
    await this.queue.push(events, partition);
  }

  /** One produce call, to one partition: its record batch is stored whole or not at all. */
  private async send(events: PageViewEvent[], partition: number): Promise<void> {
    try {
      await this.producer.send({
        topic: this.options.topic,
        acks: -1,
        timeout: 5_000,
        compression: CompressionTypes.None,
        messages: events.map((e) => ({ partition, value: encodeEvent(e) })),
      });
    } catch (err) {
      this.logger.warn({ err, partition, events: events.length }, 'kafka_publish_failed');
      throw err;
    }
  }

  private async partitionCount(): Promise<number> {
    const meta = await this.admin!.fetchTopicMetadata({ topics: [this.options.topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  }

  /** Ready when the cluster answers a metadata request for the topic now, within 2 s. */
  async ready(): Promise<boolean> {
    try {
      await this.connect();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('metadata request timed out')), 2_000);
      });
      try {
        return (await Promise.race([this.partitionCount(), timeout])) > 0;
      } finally {
        clearTimeout(timer);
      }
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.queue.drain();
    await this.producer.disconnect();
    await this.admin?.disconnect();
  }
}

/** FNV-1a: the same key lands on the same partition in every ingest process. */
function stableHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
