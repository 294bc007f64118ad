import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { LoggedEvent } from '../../domain/event.js';
import type { BatchHandler, EventConsumer } from '../../ports/event-bus.js';
import { decodeEvent } from './codec.js';

export interface KafkaConsumerOptions {
  topic: string;
  groupId: string;
  /** events handed to the handler at once */
  batchSize: number;
  /** partitions handled in parallel (each partition stays in order) */
  concurrency?: number;
  /** how long the group waits for a member that died before giving its partitions to others */
  sessionTimeoutMs?: number;
}

/**
 * A consumer-group member. Offsets are committed by hand, per partition and in ascending order,
 * only after the handler stored the batch (OpenPanel's duplicate-delivery bug came from resolving
 * offsets out of order). A failing store is retried with backoff, heartbeating, committing
 * nothing; if the partition is taken away meanwhile, the batch is left to its new owner.
 */
export class KafkaEventConsumer implements EventConsumer {
  private readonly consumer: Consumer;
  private joined = false;
  private running = false;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10)),
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const { GROUP_JOIN, CRASH, STOP, DISCONNECT } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      this.joined = true;
    });
    for (const event of [CRASH, STOP, DISCONNECT]) {
      this.consumer.on(event, () => {
        this.joined = false;
      });
    }
  }

  async start(handler: BatchHandler): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (let i = 0; i < batch.messages.length; i += this.options.batchSize) {
          const messages = batch.messages.slice(i, i + this.options.batchSize);
          const events = this.decode(messages, batch.partition);
          for (let attempt = 1; ; attempt++) {
            if (!isRunning() || isStale()) return;
            try {
              if (events.length > 0) await handler(events);
              break;
            } catch (err) {
              this.logger.warn({ err, attempt, partition: batch.partition }, 'processing_batch_failed');
              await sleep(Math.min(5_000, 100 * 2 ** attempt));
              await heartbeat().catch(() => {});
            }
          }
          const last = messages[messages.length - 1]!.offset;
          resolveOffset(last);
          await this.consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
          ]);
          await heartbeat();
        }
      },
    });
  }

  private decode(messages: KafkaMessage[], partition: number): LoggedEvent[] {
    const events: LoggedEvent[] = [];
    for (const m of messages) {
      const e = decodeEvent(m.value, partition, m.offset);
      if (e === undefined) this.logger.error({ partition, offset: m.offset }, 'undecodable_message_skipped');
      else events.push(e);
    }
    return events;
  }

  async ready(): Promise<boolean> {
    return this.running && this.joined;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // disconnect() waits for the batch in hand, which commits before it returns.
    await this.consumer.disconnect();
  }
}
