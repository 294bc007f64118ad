import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OVERFLOW_NAME, type CardinalityLimits } from '../../src/adapters/cardinality.js';
import type { LoggedEvent } from '../../src/domain/event.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { HOSTILE_NAMES } from './names.js';

const at = (iso: string): number => Date.parse(iso);
let nextOffset = 1;
const ev = (iso: string, region = 'DE', pageName = '/', bot = false, partition = 0): LoggedEvent => ({
  timestamp: at(iso),
  region,
  pageName,
  bot,
  partition,
  offset: String(nextOffset++),
});

const total = (counts: Array<{ views: number }>): number => counts.reduce((n, c) => n + c.views, 0);

export interface OpenedStore {
  store: EventStore;
  /** the same stored data opened again, as after a restart */
  reopen(): Promise<EventStore>;
  dispose(): Promise<void>;
}

const ROOMY: CardinalityLimits = { maxPageNames: 10_000, maxRegions: 10_000 };

/** Three days of March 2025 in UTC: DE views at both edges of the 1st and on the 2nd, a US view and a US bot. */
const marchEdges = (): LoggedEvent[] => [
  ev('2025-03-01T00:00:00.000Z'),
  ev('2025-03-01T23:59:59.999Z'),
  ev('2025-03-02T00:00:00.000Z'),
  ev('2025-03-01T10:00:00Z', 'US', '/pricing'),
  ev('2025-03-01T10:00:00Z', 'US', '/pricing', true),
];

/**
 * The event-store contract, run against every adapter. `open` gives each test a store of its own
 * (a database, a schema), named after the test.
 */
export function eventStoreContract(name: string, open: (testName: string, limits: CardinalityLimits) => Promise<OpenedStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let dispose: () => Promise<void>;
    beforeEach(async ({ task }) => {
      ({ store, dispose } = await open(task.name, ROOMY));
    });
    afterEach(async () => await dispose?.());

    it('counts page views per local day, region and page; bots apart', async () => {
      await store.write(marchEdges());
      const counts = await store.dailyCounts(at('2025-03-01T00:00:00Z'), at('2025-03-03T00:00:00Z'), 'UTC');
      expect(counts.sort((a, b) => a.dayStart - b.dayStart || a.region.localeCompare(b.region))).toEqual([
        { dayStart: at('2025-03-01T00:00:00Z'), region: 'DE', pageName: '/', views: 2 },
        { dayStart: at('2025-03-01T00:00:00Z'), region: 'US', pageName: '/pricing', views: 1 },
        { dayStart: at('2025-03-02T00:00:00Z'), region: 'DE', pageName: '/', views: 1 },
      ]);
      expect(await store.dailyBotCounts(at('2025-03-01T00:00:00Z'), at('2025-03-03T00:00:00Z'), 'UTC')).toEqual([
        { dayStart: at('2025-03-01T00:00:00Z'), hits: 1 },
      ]);
    });

    it('counts at a cut: listed partitions up to their position, other partitions whole', async () => {
      const day = at('2025-04-04T00:00:00Z');
      const base = nextOffset;
      const batch = [0, 1, 2, 3].map((i) => ({ ...ev('2025-04-04T08:00:00Z', 'CUT', '/c'), timestamp: day + 3_600_000 + i, offset: String(base + i) }));
      const other = { ...ev('2025-04-04T09:00:00Z', 'CUT', '/c', false, 5) };
      const bot = { ...ev('2025-04-04T09:00:00Z', 'CUT', '/c', true, 0) };
      await store.write([...batch, other, bot]);
      const views = async (upTo?: Array<{ partition: number; through: string }>) =>
        total((await store.dailyCounts(day, day + 86_400_000, 'UTC', upTo)).filter((c) => c.region === 'CUT'));
      expect(await views()).toBe(5);
      expect(await views([{ partition: 0, through: String(base + 1) }])).toBe(3); // offsets base, base+1, and partition 5
      expect(
        await views([
          { partition: 0, through: String(base + 1) },
          { partition: 5, through: '-1' },
        ]),
      ).toBe(2);
      expect(await views([])).toBe(5);
      const bots = async (through: string) =>
        total((await store.dailyBotCounts(day, day + 86_400_000, 'UTC', [{ partition: 0, through }])).map((b) => ({ views: b.hits })));
      expect(await bots(bot.offset)).toBe(1);
      expect(await bots(String(Number(bot.offset) - 1))).toBe(0);
    });

    it('the range is [from, to)', async () => {
      await store.write(marchEdges());
      const counts = await store.dailyCounts(at('2025-03-01T00:00:00.001Z'), at('2025-03-02T00:00:00Z'), 'UTC');
      expect(total(counts)).toBe(2); // 00:00:00.000 is before `from`; 2025-03-02T00:00 is `to`
    });

    it('uses local days of the requested zone, across a DST change', async () => {
      // Berlin 2025-10-26 lasts 25 hours: 2025-10-25T22:00Z … 2025-10-26T23:00Z
      await store.write([ev('2025-10-25T22:00:00Z', 'AT'), ev('2025-10-26T22:59:59Z', 'AT'), ev('2025-10-26T23:00:00Z', 'AT')]);
      const counts = await store.dailyCounts(at('2025-10-25T22:00:00Z'), at('2025-10-27T23:00:00Z'), 'Europe/Berlin');
      expect(counts.filter((c) => c.region === 'AT').sort((a, b) => a.dayStart - b.dayStart)).toEqual([
        { dayStart: at('2025-10-25T22:00:00Z'), region: 'AT', pageName: '/', views: 2 },
        { dayStart: at('2025-10-26T23:00:00Z'), region: 'AT', pageName: '/', views: 1 },
      ]);
    });

    it('writing the same logged event again stores it once; equal events at other offsets count', async () => {
      const batch = [ev('2025-04-01T12:00:00Z', 'NZ'), ev('2025-04-01T12:00:00Z', 'NZ'), ev('2025-04-01T12:00:00Z', 'NZ', '/', false, 1)];
      batch[2]!.offset = batch[0]!.offset; // same offset, other partition: a different event
      await store.write(batch);
      await store.write(batch); // redelivery after a crash before the commit
      await store.write([batch[1]!]);
      const counts = await store.dailyCounts(at('2025-04-01T00:00:00Z'), at('2025-04-02T00:00:00Z'), 'UTC');
      expect(total(counts.filter((c) => c.region === 'NZ'))).toBe(3);
    });

    it('round-trips hostile region and page names exactly', async () => {
      await store.write(HOSTILE_NAMES.map((n) => ev('2025-05-05T05:05:05Z', n, n)));
      const counts = await store.dailyCounts(at('2025-05-05T00:00:00Z'), at('2025-05-06T00:00:00Z'), 'UTC');
      expect(counts.map((c) => [c.region, c.pageName, c.views]).sort()).toEqual(HOSTILE_NAMES.map((n) => [n, n, 1]).sort());
    });

    it('reports recent counts per minute', async () => {
      const now = Date.now();
      const minute = Math.floor(now / 60_000) * 60_000;
      await store.write([
        { ...ev('2025-01-01T00:00:00Z', 'RT', '/live'), timestamp: now - 1_000 },
        { ...ev('2025-01-01T00:00:00Z', 'RT', '/live'), timestamp: now - 500 },
      ]);
      const recent = (await store.recentCounts(now - 5 * 60_000)).filter((r) => r.region === 'RT');
      expect(total(recent)).toBe(2);
      expect(recent.every((r) => r.minuteStart <= minute && r.minuteStart >= minute - 60_000)).toBe(true);
    });

    it('reports readiness', async () => {
      expect(await store.ready()).toBe(true);
    });

    it('counts page names past MAX_PAGE_NAMES and regions past MAX_REGIONS as (other), and keeps the caps after a restart', async ({ task }) => {
      const capped = await open(`${task.name} capped`, { maxPageNames: 3, maxRegions: 2 });
      try {
        const t = at('2025-06-10T12:00:00Z');
        const e = (pageName: string, region: string): LoggedEvent => ({ ...ev('2025-06-10T12:00:00Z', region, pageName), timestamp: t });
        await capped.store.write([e('/a', 'DE'), e('/b', 'US'), e('/c', 'DE'), e('/d', 'FR'), e('/e', 'XX-1'), e('/a', 'FR')]);
        // after a restart the stored names still fill the caps
        const reopened = await capped.reopen();
        await reopened.write([e('/f', 'US'), e('/b', 'ZZ'), e('/c', 'DE')]);
        const counts = await reopened.dailyCounts(at('2025-06-10T00:00:00Z'), at('2025-06-11T00:00:00Z'), 'UTC');
        const by = (key: 'pageName' | 'region'): Record<string, number> => {
          const out: Record<string, number> = {};
          for (const c of counts) out[c[key]] = (out[c[key]] ?? 0) + c.views;
          return out;
        };
        expect(by('pageName')).toEqual({ '/a': 2, '/b': 2, '/c': 2, [OVERFLOW_NAME]: 3 });
        expect(by('region')).toEqual({ DE: 3, US: 2, [OVERFLOW_NAME]: 4 });
        // thousands of invented names stay within the caps
        await reopened.write(Array.from({ length: 2_000 }, (_, i) => e(`/crawl/${i}`, `R${i}`)));
        const after = await reopened.dailyCounts(at('2025-06-10T00:00:00Z'), at('2025-06-11T00:00:00Z'), 'UTC');
        expect(new Set(after.map((c) => c.pageName)).size).toBeLessThanOrEqual(4);
        expect(new Set(after.map((c) => c.region)).size).toBeLessThanOrEqual(3);
        expect(total(after)).toBe(2_009);
      } finally {
        await capped.dispose();
      }
    });
  });
}
