import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoggedEvent, PageViewEvent } from '../../src/domain/event.js';
import type { EventConsumer, EventPublisher } from '../../src/ports/event-bus.js';
import { HOSTILE_NAMES } from './names.js';

export interface BusUnderTest {
  publisher: EventPublisher;
  /** a new consumer in the same consumer group: it resumes from the group's committed offsets */
  consumer(): Promise<EventConsumer>;
  dispose(): Promise<void>;
}

const event = (pageName: string, region = 'DE'): PageViewEvent => ({ timestamp: Date.parse('2025-06-01T12:00:00Z'), region, pageName, bot: false });

const POLL = { timeout: 60_000, interval: 20 };

/** Consumes with a new consumer of the group until `done` holds for what it has seen, then stops it. */
async function consumeUntil(bus: BusUnderTest, done: (seen: readonly LoggedEvent[]) => boolean): Promise<LoggedEvent[]> {
  const seen: LoggedEvent[] = [];
  const consumer = await bus.consumer();
  await consumer.start(async (batch) => {
    seen.push(...batch);
  });
  await expect.poll(() => done(seen), POLL).toBe(true);
  await consumer.stop();
  return seen;
}

/**
 * The event-bus contract (publisher + consumer group), run against every adapter. `open` gives
 * each test a log of its own (a topic and group, a schema), named after the test.
 */
export function eventBusContract(name: string, open: (testName: string) => Promise<BusUnderTest>): void {
  describe(`EventBus contract: ${name}`, () => {
    let bus: BusUnderTest;
    beforeEach(async ({ task }) => {
      bus = await open(task.name);
    });
    afterEach(async () => await bus?.dispose());

    it('delivers every published event once, with its identity, in offset order per partition; failed batches again', async () => {
      const sent = Date.now();
      const published = Array.from({ length: 500 }, (_, i) => event(`/p/${i}`));
      await Promise.all([0, 100, 200, 300, 400].map((i) => bus.publisher.publish(published.slice(i, i + 100))));
      const seen: LoggedEvent[] = [];
      let failOnce = true;
      const consumer = await bus.consumer();
      await consumer.start(async (batch) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('store unavailable'); // nothing of this batch may be committed
        }
        seen.push(...batch);
      });
      await expect.poll(() => new Set(seen.map((e) => e.pageName)).size, POLL).toBeGreaterThanOrEqual(500);
      await consumer.stop();
      const names = seen.map((e) => e.pageName);
      expect(new Set(names)).toEqual(new Set(published.map((e) => e.pageName)));
      const ids = seen.map((e) => `${e.partition}:${e.offset}`);
      expect(new Set(ids).size).toBe(ids.length);
      const byPartition = new Map<number, bigint[]>();
      for (const e of seen) byPartition.set(e.partition, [...(byPartition.get(e.partition) ?? []), BigInt(e.offset)]);
      for (const offsets of byPartition.values()) expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      // Kafka's record time is the clock of processing's window of request ids: when the producer sent it.
      const logTimes = seen.flatMap((e) => (e.logTime === undefined ? [] : [e.logTime]));
      if (name.startsWith('Kafka')) expect(logTimes).toHaveLength(seen.length);
      for (const t of logTimes) expect(t).toBeGreaterThanOrEqual(sent - 1_000);
      for (const t of logTimes) expect(t).toBeLessThanOrEqual(Date.now());
    });

    it('a new consumer of the group resumes after the committed offsets', async () => {
      const before = Array.from({ length: 30 }, (_, i) => event(`/before-restart/${i}`));
      await bus.publisher.publish(before);
      const first = await consumeUntil(bus, (seen) => seen.length >= before.length);
      expect(first.map((e) => e.pageName).sort()).toEqual(before.map((e) => e.pageName).sort());
      await bus.publisher.publish([event('/after-restart')]);
      const seen = await consumeUntil(bus, (seen) => seen.some((e) => e.pageName === '/after-restart'));
      expect(seen.map((e) => e.pageName)).toEqual(['/after-restart']);
    });

    it('round-trips hostile names and the bot flag exactly', async () => {
      await bus.publisher.publish(HOSTILE_NAMES.map((n) => ({ ...event(n, n), bot: n.length % 2 === 0 })));
      const seen = await consumeUntil(bus, (seen) => seen.length >= HOSTILE_NAMES.length);
      expect(seen.map((e) => [e.region, e.pageName, e.bot, e.timestamp]).sort()).toEqual(
        HOSTILE_NAMES.map((n) => [n, n, n.length % 2 === 0, Date.parse('2025-06-01T12:00:00Z')]).sort(),
      );
    });

    it('reports readiness', async () => {
      expect(await bus.publisher.ready()).toBe(true);
    });
  });
}
