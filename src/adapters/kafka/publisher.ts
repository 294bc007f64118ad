import { CompressionTypes, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { AppError } from '../../domain/errors.js';
import type { PageViewEvent } from '../../domain/event.js';
import type { EventPublisher } from '../../ports/event-bus.js';
import { encodeEvent } from './codec.js';

interface Pending {
  events: readonly PageViewEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

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
 * a few thousand a second, batches over a hundred thousand); one call per partition is in flight,
 * and the queue is bounded: overload becomes a fast 503, not a pile-up.
 */
export class KafkaPublisher implements EventPublisher {
  private producer: Producer;
  private readonly kafka: Kafka;
  private queues: Pending[][] = [];
  private sending: boolean[] = [];
  private queued = 0;
  private next = 0;
  private connecting: Promise<void> | undefined;
  private connected = false;
  private admin: Admin | undefined;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly queueGauge: Gauge | undefined;
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
    this.maxBatch = options.maxBatch ?? 2_000;
    this.maxQueued = options.maxQueued ?? 50_000;
    this.queueGauge = options.registry
      ? new Gauge({ name: 'page_stats_ingest_queued_events', help: 'Events waiting for a Kafka produce request', registers: [options.registry] })
      : undefined;
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
      while (this.queues.length < partitions) {
        this.queues.push([]);
        this.sending.push(false);
      }
      this.connected = true;
    })().finally(() => {
      this.connecting = undefined;
    });
    await this.connecting;
  }

  async publish(events: readonly PageViewEvent[], options: { key?: string | undefined } = {}): Promise<void> {
    if (events.length === 0) return;
    if (this.queued + events.length > this.maxQueued) {
      throw new AppError('event_log_unavailable', 'ingest is overloaded; nothing was stored, retry later', { retryAfterSeconds: 1 });
    }
    await this.connect();
    await new Promise<void>((resolve, reject) => {
      const partition = options.key === undefined ? this.next++ % this.queues.length : stableHash(options.key) % this.queues.length;
      this.queues[partition]!.push({ events, resolve, reject });
      this.queued += events.length;
      this.queueGauge?.set(this.queued);
      void this.pump(partition);
    });
  }

  private async pump(partition: number): Promise<void> {
    if (this.sending[partition]) return;
    this.sending[partition] = true;
    const queue = this.queues[partition]!;
    try {
      while (queue.length > 0) {
        const group: Pending[] = [];
        let size = 0;
        while (queue.length > 0 && (group.length === 0 || size + queue[0]!.events.length <= this.maxBatch)) {
          const p = queue.shift()!;
          group.push(p);
          size += p.events.length;
        }
        this.queued -= size;
        this.queueGauge?.set(this.queued);
        try {
          await this.producer.send({
            topic: this.options.topic,
            acks: -1,
            timeout: 5_000,
            compression: CompressionTypes.None,
            messages: group.flatMap((p) => p.events.map((e) => ({ partition, value: encodeEvent(e) }))),
          });
          for (const p of group) p.resolve();
        } catch (err) {
          this.logger.warn({ err, partition, events: size }, 'kafka_publish_failed');
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      this.sending[partition] = false;
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
    while (this.queued > 0 || this.sending.some(Boolean)) await new Promise((r) => setTimeout(r, 5));
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
