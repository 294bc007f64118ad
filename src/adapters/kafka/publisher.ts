import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
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
  /** produce requests in flight at once */
  maxInFlight?: number;
  /** events waiting for a produce request; past it ingest answers 503 at once */
  maxQueued?: number;
  registry?: Registry;
}

/**
 * Publishes with acks from all in-sync replicas. Requests arriving together share a produce
 * request (single sends reach a few thousand a second, batches over a hundred thousand), with
 * a bounded number in flight and a bounded queue: overload becomes a fast 503, not a pile-up.
 */
export class KafkaPublisher implements EventPublisher {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private queued = 0;
  private inFlight = 0;
  private connecting: Promise<void> | undefined;
  private connected = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly queueGauge: Gauge | undefined;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly options: KafkaPublisherOptions,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1, idempotent: false });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
    this.maxBatch = options.maxBatch ?? 2_000;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.maxQueued = options.maxQueued ?? 50_000;
    this.queueGauge = options.registry
      ? new Gauge({ name: 'page_stats_ingest_queued_events', help: 'Events waiting for a Kafka produce request', registers: [options.registry] })
      : undefined;
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    this.connecting ??= this.producer.connect().then(
      () => {
        this.connected = true;
        this.connecting = undefined;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    await this.connecting;
  }

  publish(events: readonly PageViewEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.queued + events.length > this.maxQueued) {
      return Promise.reject(
        new AppError('event_log_unavailable', 'ingest is overloaded; nothing was stored, retry later', { retryAfterSeconds: 1 }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.queued += events.length;
      this.queueGauge?.set(this.queued);
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && (group.length === 0 || size + this.queue[0]!.events.length <= this.maxBatch)) {
        const next = this.queue.shift()!;
        group.push(next);
        size += next.events.length;
      }
      this.queued -= size;
      this.queueGauge?.set(this.queued);
      this.inFlight++;
      void this.send(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async send(group: Pending[]): Promise<void> {
    try {
      await this.connect();
      await this.producer.send({
        topic: this.options.topic,
        acks: -1,
        timeout: 5_000,
        compression: CompressionTypes.None,
        messages: group.flatMap((p) => p.events.map((e) => ({ value: encodeEvent(e) }))),
      });
      for (const p of group) p.resolve();
    } catch (err) {
      this.logger.warn({ err, events: group.reduce((n, p) => n + p.events.length, 0) }, 'kafka_publish_failed');
      for (const p of group) p.reject(err);
    }
  }

  async ready(): Promise<boolean> {
    try {
      await this.connect();
      return this.connected;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    await this.producer.disconnect();
  }
}
