import type { LoggedEvent, PageViewEvent } from '../domain/event.js';

/**
 * The event log between ingest and processing (Kafka in distributed mode).
 * `publish` resolves only once every event is durable; it rejects as a whole otherwise.
 */
export interface EventPublisher {
  /** `key`: requests with the same key go to the same partition (an Idempotency-Key's retries meet there). */
  publish(events: readonly PageViewEvent[], options?: { key?: string | undefined }): Promise<void>;
  /** Reachable and accepting writes right now. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** A message processing cannot decode: kept with its place in the log, never retried forever. */
export interface RejectedMessage {
  partition: number;
  offset: string;
  value: Buffer | null;
  reason: string;
}

export type BatchHandler = (batch: readonly LoggedEvent[], rejected: readonly RejectedMessage[]) => Promise<void>;

/**
 * Consumes the log in batches. The handler's promise resolving is the signal that the batch
 * is stored: only then are its offsets committed, in ascending order per partition.
 * When the handler throws, nothing of that batch is committed and it is delivered again.
 */
export interface EventConsumer {
  start(handler: BatchHandler): Promise<void>;
  ready(): Promise<boolean>;
  /** Stops fetching, lets the batch in hand finish and commit, then disconnects. */
  stop(): Promise<void>;
}
