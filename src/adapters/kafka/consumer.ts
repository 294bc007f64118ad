import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { backoff } from '../../domain/backoff.js';
import type { LoggedEvent } from '../../domain/event.js';
import type { BatchHandler, EventConsumer, RejectedMessage } from '../../ports/event-bus.js';
import { decodeEvent } from './codec.js';

export interface KafkaConsumerOptions {
  topic: string;
  groupId: string;
  /** events handed to the handler at once */
  batchSize: number;
  /**
   * partitions handled in parallel (each partition stays in order); default 12: InfluxDB takes
   * concurrent writes well, and with 12 partitions this consumed ~25 % more than 3 (bench/).
   * Each holds at most one fetched batch (maxBytesPerPartition) in memory.
   */
  concurrency?: number;
  /** how long the group waits for a member that died before giving its partitions to others */
  sessionTimeoutMs?: number;
}

/** A failing batch is retried after 200 ms, 400 ms, … at most 5 s. */
const BATCH_RETRY = { baseMs: 100, capMs: 5_000 };
/** A consumer that crashed is created again after 500 ms, 1 s, … at most 10 s. */
const RESTART_RETRY = { baseMs: 250, capMs: 10_000 };

/**
 * A consumer-group member. Offsets are committed by hand, per partition and in ascending order,
 * only after the handler stored the batch (OpenPanel's duplicate-delivery bug came from resolving
 * offsets out of order). A failing store is retried with backoff, heartbeating, committing
 * nothing; if the partition is taken away meanwhile, the batch is left to its new owner.
 */
export class KafkaEventConsumer implements EventConsumer {
  private consumer: Consumer;
  private handler: BatchHandler | undefined;
  private joined = false;
  private running = false;
  /** aborted by stop(): a backoff in progress ends at once */
  private stopping = new AbortController();
  private restarting: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.consumer = this.create();
  }

  private create(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      // How long a rebalance waits for members to rejoin: a member that crashed and came back
      // waits this long for the group, so it follows the session timeout (60 s by default).
      rebalanceTimeout: 2 * (this.options.sessionTimeoutMs ?? 30_000),
      heartbeatInterval: Math.max(500, Math.floor((this.options.sessionTimeoutMs ?? 30_000) / 10)),
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const { GROUP_JOIN, CRASH, STOP, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, () => {
      this.joined = true;
    });
    for (const event of [STOP, DISCONNECT]) {
      consumer.on(event, () => {
        this.joined = false;
      });
    }
    consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      // kafkajs restarts itself after retriable errors only; after others (e.g. the group
      // forgot this member during a long outage) the consumer would stay dead in a live process.
      if (!payload.restart && this.running) void this.restartAfterCrash(payload.error);
    });
    return consumer;
  }

  async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    const stopped = this.stopping.signal;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 12,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (let i = 0; i < batch.messages.length; i += this.options.batchSize) {
          const messages = batch.messages.slice(i, i + this.options.batchSize);
          const { events, rejected } = this.decode(messages, batch.partition);
          for (let attempt = 1; ; attempt++) {
            // A retry is given up when stopping: the batch stays uncommitted and is delivered again.
            if (!isRunning() || isStale() || (attempt > 1 && stopped.aborted)) return;
            try {
              if (events.length > 0 || rejected.length > 0) await handler(events, rejected);
              break;
            } catch (err) {
              this.logger.warn({ err, attempt, partition: batch.partition }, 'processing_batch_failed');
              await backoff(attempt, BATCH_RETRY, stopped);
              await heartbeat().catch(() => {});
            }
          }
          const last = messages[messages.length - 1]!.offset;
          resolveOffset(last);
          await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
          await heartbeat();
        }
      },
    });
  }

  private restartAfterCrash(error: Error): Promise<void> {
    this.restarting ??= (async () => {
      this.logger.error({ err: error }, 'kafka_consumer_crashed_restarting');
      for (let attempt = 1; this.running; attempt++) {
        await this.consumer.disconnect().catch(() => {});
        await backoff(attempt, RESTART_RETRY, this.stopping.signal);
        if (!this.running) return;
        this.consumer = this.create();
        try {
          await this.start(this.handler!);
          this.logger.info({ attempt }, 'kafka_consumer_restarted');
          return;
        } catch (err) {
          this.logger.warn({ err, attempt }, 'kafka_consumer_restart_failed');
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private decode(messages: KafkaMessage[], partition: number): { events: LoggedEvent[]; rejected: RejectedMessage[] } {
    const events: LoggedEvent[] = [];
    const rejected: RejectedMessage[] = [];
    for (const m of messages) {
      // the record's timestamp: the producer's send time (the broker's, for a topic with LogAppendTime); -1 when absent
      const logTime = Number(m.timestamp);
      const e = decodeEvent(m.value, partition, m.offset, logTime > 0 ? logTime : undefined);
      if (e === undefined) {
        this.logger.error({ partition, offset: m.offset }, 'undecodable_message');
        rejected.push({ partition, offset: m.offset, value: m.value, reason: 'not a page-view event' });
      } else events.push(e);
    }
    return { events, rejected };
  }

  async ready(): Promise<boolean> {
    return this.running && this.joined;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    await this.restarting;
    // disconnect() waits for the batch in hand, which commits before it returns.
    await this.consumer.disconnect();
  }
}
