import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { backoff } from '../../domain/backoff.js';
import type { LoggedEvent } from '../../domain/event.js';
import type { EventConsumer, RejectedMessage } from '../../ports/event-bus.js';
import type { EventStore } from '../../ports/event-store.js';
import type { ProcessedEvent, RecordedRequest, RecordedRequests, RollupStore, WindowRequest } from '../../ports/rollup-store.js';
import { dropCopies, isKeyed, keyedIdsOf, RequestWindow, toFirstCopy } from './dedup.js';

export interface ProcessingSettings {
  /** how long a client may retry a request with the same Idempotency-Key */
  lateArrivalWindowMs: number;
}

/**
 * processing-service: consumes the event log in batches and writes each batch to the event store,
 * then records its counts for the incremental consolidation (once: the rollup store skips offsets
 * it has recorded). The consumer commits a batch's offsets only after `handle` resolves, so a
 * crash anywhere in between redelivers the batch, and both stores absorb the repeat.
 */
/** Retries of a start while the event log is unreachable: 500 ms, 1 s, … at most 10 s. */
const START_RETRY = { baseMs: 250, capMs: 10_000 };

export class ProcessingService {
  private readonly processed: Counter<'kind'>;
  private readonly dropped: Counter<'reason'>;
  private readonly batchSeconds: Histogram;
  private running = false;
  /** partitions this process has made sure have a recorded position */
  private readonly claimed = new Set<number>();
  private starting: Promise<void> | undefined;
  private stopping = new AbortController();
  /** generated request ids per partition (see RequestWindow for why memory is enough) */
  private readonly window: RequestWindow;

  constructor(
    private readonly consumer: EventConsumer,
    private readonly store: EventStore,
    private readonly rollups: RollupStore,
    private readonly logger: Logger,
    registry: Registry,
    private readonly settings: ProcessingSettings = { lateArrivalWindowMs: 48 * 3_600_000 },
  ) {
    this.dropped = new Counter({
      name: 'page_stats_processing_dropped_total',
      help: 'Messages not counted: copies of a request already stored, and messages that are not events (kept in dead_letters)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.processed = new Counter({
      name: 'page_stats_processing_events_total',
      help: 'Events written to the event store',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    this.window = new RequestWindow(async (partition) => await this.rollups.recentBatches(partition));
    const window = this.window;
    new Gauge({
      name: 'page_stats_processing_request_window_ids',
      help: 'Generated request ids held in memory to drop copies of a request (the last minutes of each partition)',
      registers: [registry],
      collect() {
        this.set(window.size());
      },
    });
    this.batchSeconds = new Histogram({
      name: 'page_stats_processing_batch_seconds',
      help: 'Time to write one batch to the event store',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }

  /**
   * Starts consuming; while the event log is unreachable it keeps trying with backoff (and
   * reports not ready) instead of exiting, so an outage at boot heals without a restart loop.
   */
  async start(): Promise<void> {
    this.running = true;
    this.stopping = new AbortController();
    this.starting = this.startWithRetry();
    await Promise.race([this.starting, sleep(0)]);
  }

  private async startWithRetry(): Promise<void> {
    for (let attempt = 1; this.running; attempt++) {
      try {
        await this.consumer.start(async (batch, rejected) => await this.handle(batch, rejected));
        this.logger.info('processing_started');
        return;
      } catch (err) {
        this.logger.warn({ err, attempt }, 'processing_start_failed');
        await this.consumer.stop().catch(() => {});
        await backoff(attempt, START_RETRY, this.stopping.signal);
      }
    }
  }

  private async handle(all: readonly LoggedEvent[], rejected: readonly RejectedMessage[] = []): Promise<void> {
    const end = this.batchSeconds.startTimer();
    if (rejected.length > 0) {
      await this.rollups.keepRejected(rejected);
      this.dropped.inc({ reason: 'undecodable' }, rejected.length);
    }
    // Copies of a request stored twice (a produce retried after a lost acknowledgement, a client
    // retrying with an Idempotency-Key) are dropped before anything is written: counted once.
    // Generated ids are looked up in the partition's window in memory, keyed ones in the store.
    const spans = spansOf(all, rejected);
    const windows = new Map<number, ReadonlyMap<string, number>>();
    for (const [partition, span] of spans) windows.set(partition, await this.window.of(partition, span.first));
    const keyedIds = keyedIdsOf(all);
    const keyed = keyedIds.length === 0 ? undefined : await this.rollups.knownRequests(keyedIds);
    const {
      kept: batch,
      copies,
      requests,
    } = dropCopies(all, (id, partition) => {
      if (isKeyed(id)) {
        const c = keyed?.get(id);
        return c === undefined ? undefined : toFirstCopy(c);
      }
      const base = windows.get(partition)?.get(id);
      return base === undefined ? undefined : { partition, base };
    });
    if (copies > 0) {
      this.dropped.inc({ reason: 'copy' }, copies);
      this.logger.info({ copies }, 'request_copies_dropped');
    }
    const now = Date.now();
    const keyedFirst: RecordedRequest[] = [];
    // The window's clock is the log's record time where the log has one: a copy is sent again within
    // seconds of its original by the producer's clock, however fast processing reads the log.
    const generated = new Map<number, { at: number; requests: WindowRequest[] }>();
    for (const [partition, span] of spans) generated.set(partition, { at: span.logTime ?? now, requests: [] });
    for (const r of requests) {
      if (isKeyed(r.requestId)) {
        keyedFirst.push({ requestId: r.requestId, partition: r.partition, baseOffset: String(r.base), keepUntil: now + this.settings.lateArrivalWindowMs });
      } else generated.get(r.partition)?.requests.push([r.requestId, r.base]);
    }
    const recorded: RecordedRequests = { keyed: keyedFirst, generated, windowMs: this.window.windowMs };
    // Before a partition's first write: a recompute's cut must already list it, or it would count
    // events of this batch that the record below adds again (batches are ascending per partition).
    const unclaimed = new Map<number, string>();
    for (const e of batch) if (!this.claimed.has(e.partition) && !unclaimed.has(e.partition)) unclaimed.set(e.partition, e.offset);
    if (unclaimed.size > 0) {
      await this.rollups.claimPartitions([...unclaimed].map(([partition, first]) => ({ partition, through: (BigInt(first) - 1n).toString() })));
      for (const partition of unclaimed.keys()) this.claimed.add(partition);
    }
    const names = await this.store.write(batch);
    const processed: ProcessedEvent[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      const n = names[i]!;
      processed[i] = { partition: e.partition, offset: e.offset, timestamp: e.timestamp, bot: e.bot, region: n.region, pageName: n.pageName };
    }
    await this.rollups.recordProcessed(processed, recorded);
    // Only now, with the batch recorded, may its ids join the windows (a failed batch comes again).
    for (const [partition, span] of spans) {
      const g = generated.get(partition)!;
      this.window.recorded(partition, span.last, g.at, g.requests);
    }
    end();
    let bots = 0;
    for (const e of batch) if (e.bot) bots++;
    this.processed.inc({ kind: 'page_view' }, batch.length - bots);
    if (bots > 0) this.processed.inc({ kind: 'bot' }, bots);
  }

  async ready(): Promise<boolean> {
    return this.running && (await this.consumer.ready()) && (await this.store.ready()) && (await this.rollups.ready());
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    await this.starting;
    await this.consumer.stop();
    this.logger.info('processing_stopped');
  }
}

interface Span {
  first: number;
  last: number;
  /** the latest record time of the partition's events in the batch */
  logTime: number | undefined;
}

/** The first and last offset each partition's messages in a batch span (decoded or not), and their latest record time. */
function spansOf(events: readonly LoggedEvent[], rejected: readonly RejectedMessage[]): Map<number, Span> {
  const spans = new Map<number, Span>();
  const add = (partition: number, offset: string, logTime: number | undefined): void => {
    const o = Number(offset);
    const s = spans.get(partition);
    if (s === undefined) spans.set(partition, { first: o, last: o, logTime });
    else {
      if (o < s.first) s.first = o;
      if (o > s.last) s.last = o;
      if (logTime !== undefined && (s.logTime === undefined || logTime > s.logTime)) s.logTime = logTime;
    }
  };
  for (const e of events) add(e.partition, e.offset, e.logTime);
  for (const r of rejected) add(r.partition, r.offset, undefined);
  return spans;
}
