import { Gauge, type Registry } from 'prom-client';
import { AppError } from '../domain/errors.js';

export interface GroupCommitOptions {
  /** events handed to the writer at once (a request larger than this goes alone, never split) */
  maxGroup: number;
  /** events waiting for the writer; past it `push` refuses at once */
  maxQueued: number;
  /** registers `page_stats_ingest_queued_events` here */
  registry?: Registry | undefined;
}

/** Writes one group of events to one lane; resolving means every event of it is durable. */
export type GroupWriter<E> = (events: E[], lane: number) => Promise<void>;

interface Request<E> {
  events: readonly E[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Lane<E> {
  waiting: Request<E>[];
  /** queued events of `waiting` */
  queued: number;
  /** a pump runs: its first write starts on the next turn (`scheduled`) or a write is in flight */
  writing: boolean;
  scheduled: boolean;
}

/**
 * Group commit for the event log publishers: requests that arrive while a write is in flight are
 * written together by the next one, which is what keeps the acknowledged rate high (one INSERT or
 * one produce call per group instead of per request). Each lane (a Kafka partition) has one write
 * in flight and keeps its requests in order. A request is never split, so it is stored whole or
 * not at all. The queue is bounded: overload becomes a fast 503, not a pile-up, and the gauge
 * shows how close it is.
 */
export class GroupCommitQueue<E> {
  private readonly lanes: Lane<E>[] = [];
  private queued = 0;
  private idle: (() => void)[] = [];
  private rotation = 0;

  constructor(
    private readonly write: GroupWriter<E>,
    private readonly options: GroupCommitOptions,
  ) {
    const queue = this;
    // Read when /metrics is scraped, not set on every request.
    if (options.registry) {
      new Gauge({
        name: 'page_stats_ingest_queued_events',
        help: 'Events waiting to be written to the event log',
        registers: [options.registry],
        collect() {
          this.set(queue.queued);
        },
      });
    }
  }

  /** Throws the overload error when `count` more events would not fit. */
  admit(count: number): void {
    if (this.queued + count > this.options.maxQueued) {
      throw new AppError('event_log_unavailable', 'ingest is overloaded; nothing was stored, retry later', { retryAfterSeconds: 1 });
    }
  }

  /**
   * The lane among the first `count` where a request free to go anywhere shares a write soonest
   * with the most others: one whose write starts on the next turn (it gathers this turn's
   * requests), else one with no write (its write starts on the next turn), else, when every lane
   * has a write in flight, the one with the most events queued behind its write that still fit
   * one group (they go together when it ends), or the least queued when none fits. Lanes take
   * turns among equals. Round robin instead splits concurrent requests over every lane, into many
   * small writes.
   */
  pickLane(count: number): number {
    this.ensureLanes(count - 1);
    let idle = -1;
    let fullest = -1;
    let least = -1;
    for (let k = 0; k < count; k++) {
      const i = (this.rotation + k) % count;
      const lane = this.lanes[i]!;
      if (lane.scheduled) return i;
      if (!lane.writing) {
        if (idle < 0) idle = i;
        continue;
      }
      if (lane.queued < this.options.maxGroup && (fullest < 0 || lane.queued > this.lanes[fullest]!.queued)) fullest = i;
      if (least < 0 || lane.queued < this.lanes[least]!.queued) least = i;
    }
    const chosen = idle >= 0 ? idle : fullest >= 0 ? fullest : least;
    this.rotation = (chosen + 1) % count;
    return chosen;
  }

  /** Resolves once the writer stored every event of the request; rejects with the writer's error. */
  push(events: readonly E[], lane = 0): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    this.admit(events.length);
    this.ensureLanes(lane);
    const target = this.lanes[lane]!;
    return new Promise((resolve, reject) => {
      target.waiting.push({ events, resolve, reject });
      target.queued += events.length;
      this.queued += events.length;
      // Started on the next turn of the event loop, so the requests parsed in this one share the write.
      if (!target.writing) {
        target.writing = true;
        target.scheduled = true;
        setImmediate(() => void this.pump(target, lane));
      }
    });
  }

  private ensureLanes(last: number): void {
    while (this.lanes.length <= last) this.lanes.push({ waiting: [], queued: 0, writing: false, scheduled: false });
  }

  /** Resolves when nothing is queued or being written. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async pump(target: Lane<E>, lane: number): Promise<void> {
    target.scheduled = false;
    try {
      while (target.waiting.length > 0) {
        const group: Request<E>[] = [];
        let size = 0;
        while (target.waiting.length > 0 && (group.length === 0 || size + target.waiting[0]!.events.length <= this.options.maxGroup)) {
          const next = target.waiting.shift()!;
          group.push(next);
          size += next.events.length;
        }
        target.queued -= size;
        this.queued -= size;
        try {
          await this.write(
            group.flatMap((r) => r.events),
            lane,
          );
          for (const r of group) r.resolve();
        } catch (err) {
          for (const r of group) r.reject(err);
        }
      }
    } finally {
      target.writing = false;
      if (this.isIdle()) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private isIdle(): boolean {
    return this.queued === 0 && this.lanes.every((l) => !l.writing);
  }
}
