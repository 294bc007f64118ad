import { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import { backoff } from '../../domain/backoff.js';
import type { LoggedEvent, PageViewEvent } from '../../domain/event.js';
import type { BatchHandler, EventConsumer, EventPublisher } from '../../ports/event-bus.js';
import { GroupCommitQueue } from '../group-commit.js';
import { answers, type SqlDatabase } from '../postgres/database.js';

/**
 * The embedded event log: an append-only table in the embedded database, so an event is
 * durable when `publish` resolves, exactly as a Kafka ack from all in-sync replicas is.
 * Publishes that arrive while a write is in flight are grouped into the next single INSERT
 * (group commit), which is what keeps the acknowledged rate high on one WASM database.
 */
export interface EmbeddedBusOptions {
  groupId?: string;
  batchSize?: number;
  /** upper bound of events per INSERT */
  maxGroup?: number;
  /** events waiting for their INSERT; past it ingest answers 503 at once (as with Kafka) */
  maxQueued?: number;
  /** registers `page_stats_ingest_queued_events` here */
  registry?: Registry;
  onBatchError?: (err: unknown, attempt: number) => void;
}

const PARTITION = 0;
/** Retries of a failing fetch or batch: 200 ms, 400 ms, … at most 5 s. */
const RETRY = { baseMs: 100, capMs: 5_000 };

export class EmbeddedBus implements EventPublisher, EventConsumer {
  private readonly appended = new EventEmitter();
  private readonly queue: GroupCommitQueue<PageViewEvent>;
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly groupId: string;
  private readonly batchSize: number;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: EmbeddedBusOptions = {},
  ) {
    this.groupId = options.groupId ?? 'processing';
    this.batchSize = options.batchSize ?? 2_000;
    this.queue = new GroupCommitQueue((events) => this.append(events), {
      maxGroup: options.maxGroup ?? 5_000,
      maxQueued: options.maxQueued ?? 50_000,
      registry: options.registry,
    });
  }

  static async open(db: SqlDatabase, options: EmbeddedBusOptions = {}): Promise<EmbeddedBus> {
    await db.query(`CREATE TABLE IF NOT EXISTS event_log (
      log_offset bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      ts bigint NOT NULL, region text NOT NULL, page_name text NOT NULL, bot boolean NOT NULL)`);
    // The request an event came with (0.2 on): a client retrying with an Idempotency-Key is counted once.
    await db.query('ALTER TABLE event_log ADD COLUMN IF NOT EXISTS request_id text, ADD COLUMN IF NOT EXISTS request_index integer');
    await db.query(`CREATE TABLE IF NOT EXISTS consumer_offsets (
      group_id text PRIMARY KEY, committed bigint NOT NULL)`);
    return new EmbeddedBus(db, options);
  }

  publish(events: readonly PageViewEvent[]): Promise<void> {
    return this.queue.push(events);
  }

  /** One INSERT: the group is durable when it commits, or not stored at all. */
  private async append(events: PageViewEvent[]): Promise<void> {
    await this.db.query(
      `INSERT INTO event_log (ts, region, page_name, bot, request_id, request_index)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::int[])`,
      [
        events.map((e) => e.timestamp),
        events.map((e) => e.region),
        events.map((e) => e.pageName),
        events.map((e) => e.bot),
        events.map((e) => e.requestId ?? null),
        events.map((e) => e.index ?? null),
      ],
    );
    this.appended.emit('append');
  }

  async start(handler: BatchHandler): Promise<void> {
    if (this.loop !== undefined) throw new Error('consumer already started');
    await this.db.query('INSERT INTO consumer_offsets (group_id, committed) VALUES ($1, 0) ON CONFLICT DO NOTHING', [this.groupId]);
    this.stopping = new AbortController();
    this.loop = this.consume(handler, this.stopping.signal);
  }

  private async consume(handler: BatchHandler, stopped: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!stopped.aborted) {
      let batch: LoggedEvent[];
      try {
        batch = await this.fetch();
      } catch (err) {
        this.options.onBatchError?.(err, ++attempt);
        await backoff(attempt, RETRY, stopped);
        continue;
      }
      if (batch.length === 0) {
        await this.waitForAppend(1_000);
        continue;
      }
      try {
        await handler(batch, []);
        // Commit only after the handler stored the batch; the whole batch is one ascending range.
        await this.commit(BigInt(batch[batch.length - 1]!.offset));
        attempt = 0;
      } catch (err) {
        this.options.onBatchError?.(err, ++attempt);
        await backoff(attempt, RETRY, stopped);
      }
    }
  }

  private async fetch(): Promise<LoggedEvent[]> {
    const { rows } = await this.db.query<{ o: string; ts: string; region: string; page_name: string; bot: boolean; r: string | null; i: number | null }>(
      `SELECT log_offset::text AS o, ts::text AS ts, region, page_name, bot, request_id AS r, request_index AS i FROM event_log
       WHERE log_offset > (SELECT committed FROM consumer_offsets WHERE group_id = $1)
       ORDER BY log_offset LIMIT $2`,
      [this.groupId, this.batchSize],
    );
    return rows.map((r) => ({
      partition: PARTITION,
      offset: r.o,
      timestamp: Number(r.ts),
      region: r.region,
      pageName: r.page_name,
      bot: r.bot,
      ...(r.r === null || r.i === null ? {} : { requestId: r.r, index: Number(r.i) }),
    }));
  }

  private async commit(offset: bigint): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('UPDATE consumer_offsets SET committed = $2 WHERE group_id = $1 AND committed < $2', [this.groupId, offset.toString()]);
      // Consumed entries are trimmed: the event store keeps the events, the log only what is in flight.
      await tx.query('DELETE FROM event_log WHERE log_offset <= (SELECT min(committed) FROM consumer_offsets)');
    });
  }

  private waitForAppend(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.appended.off('append', done);
        this.appended.off('stop', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.appended.once('append', done);
      this.appended.once('stop', done);
    });
  }

  /** Events published and not yet committed by the consumer group. */
  async lag(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_log
       WHERE log_offset > coalesce((SELECT committed FROM consumer_offsets WHERE group_id = $1), 0)`,
      [this.groupId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async ready(): Promise<boolean> {
    return await answers(this.db);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.appended.emit('stop');
    const loop = this.loop;
    this.loop = undefined;
    await loop;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.queue.drain();
  }
}
