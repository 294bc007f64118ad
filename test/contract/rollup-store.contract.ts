import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decomposeDays } from '../../src/domain/periods.js';
import type { DailyCount } from '../../src/ports/event-store.js';
import { CutMovedError, type RollupRow, type RollupStore } from '../../src/ports/rollup-store.js';
import { HOSTILE_NAMES } from './names.js';

const at = (iso: string): number => Date.parse(iso);

/** The week of 29 December 2025 across the year's end, in UTC, with a bot day. */
const yearEndWindow = async (store: RollupStore) =>
  await store.replaceWindow({
    start: at('2025-12-29T00:00:00Z'),
    end: at('2026-01-02T00:00:00Z'),
    timeZone: 'UTC',
    weekStart: 1,
    daily: [
      { dayStart: at('2025-12-29T00:00:00Z'), region: 'DE', pageName: '/', views: 2 },
      { dayStart: at('2025-12-31T00:00:00Z'), region: 'DE', pageName: '/', views: 3 },
      { dayStart: at('2026-01-01T00:00:00Z'), region: 'DE', pageName: '/', views: 5 },
      { dayStart: at('2026-01-01T00:00:00Z'), region: 'US', pageName: '/x', views: 1 },
    ],
    bots: [{ dayStart: at('2026-01-01T00:00:00Z'), hits: 4 }],
  });

/**
 * The rollup-store contract, run against every adapter. `open` gives each test a store of its
 * own (a database, a schema), named after the test and migrated; migrating it again changes nothing.
 */
export function rollupStoreContract(name: string, open: (testName: string) => Promise<{ store: RollupStore; dispose(): Promise<void> }>): void {
  describe(`RollupStore contract: ${name}`, () => {
    let store: RollupStore;
    let dispose: () => Promise<void>;
    beforeEach(async ({ task }) => {
      ({ store, dispose } = await open(task.name));
      await store.migrate(); // idempotent
    });
    afterEach(async () => await dispose?.());

    it('replaces a window and derives weeks and months (UTC)', async () => {
      const result = await yearEndWindow(store);
      expect(result).toEqual({ daily: 4, weekly: 2, monthly: 3 });
      const weekly = await store.query({ granularity: 'weekly', start: at('2025-12-01T00:00:00Z'), end: at('2026-02-01T00:00:00Z') });
      expect(weekly).toEqual([
        { periodStart: at('2025-12-29T00:00:00Z'), region: 'DE', pageName: '/', views: 10 },
        { periodStart: at('2025-12-29T00:00:00Z'), region: 'US', pageName: '/x', views: 1 },
      ]);
      const monthly = await store.query({ granularity: 'monthly', start: at('2025-12-01T00:00:00Z'), end: at('2026-02-01T00:00:00Z') });
      expect(monthly.map((r) => [new Date(r.periodStart).toISOString(), r.region, r.views])).toEqual([
        ['2025-12-01T00:00:00.000Z', 'DE', 5],
        ['2026-01-01T00:00:00.000Z', 'DE', 5],
        ['2026-01-01T00:00:00.000Z', 'US', 1],
      ]);
      expect(await store.bots(at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'))).toEqual([{ periodStart: at('2026-01-01T00:00:00Z'), hits: 4 }]);
      expect(await store.regions()).toEqual(expect.arrayContaining(['DE', 'US']));
    });

    it('recomputing part of a week keeps the other days of that week', async () => {
      await yearEndWindow(store);
      await store.replaceWindow({
        start: at('2026-01-01T00:00:00Z'),
        end: at('2026-01-02T00:00:00Z'),
        timeZone: 'UTC',
        weekStart: 1,
        daily: [{ dayStart: at('2026-01-01T00:00:00Z'), region: 'DE', pageName: '/', views: 6 }],
        bots: [],
      });
      const weekly = await store.query({ granularity: 'weekly', start: at('2025-12-29T00:00:00Z'), end: at('2025-12-30T00:00:00Z'), region: 'DE' });
      expect(weekly).toEqual([{ periodStart: at('2025-12-29T00:00:00Z'), region: 'DE', pageName: '/', views: 11 }]);
      // the US row of that day is gone: the window was replaced, not merged
      const us = await store.query({ granularity: 'daily', start: at('2026-01-01T00:00:00Z'), end: at('2026-01-02T00:00:00Z'), region: 'US' });
      expect(us).toEqual([]);
    });

    it('uses local days in the reporting zone, including a 23-hour DST day', async () => {
      // Berlin 2026-03-29 starts at 2026-03-28T23:00Z and lasts 23 hours.
      const dayStart = at('2026-03-28T23:00:00Z');
      await store.replaceWindow({
        start: dayStart,
        end: at('2026-03-29T22:00:00Z'),
        timeZone: 'Europe/Berlin',
        weekStart: 1,
        daily: [{ dayStart, region: 'BE', pageName: '/dst', views: 7 }],
        bots: [],
      });
      const daily = await store.query({ granularity: 'daily', start: at('2026-03-29T21:59:00Z'), end: at('2026-03-29T22:00:00Z'), region: 'BE' });
      expect(daily).toEqual([{ periodStart: dayStart, region: 'BE', pageName: '/dst', views: 7 }]);
      // the period ends at the next local midnight: nothing overlaps from 22:00Z on
      expect(await store.query({ granularity: 'daily', start: at('2026-03-29T22:00:00Z'), end: at('2026-03-30T22:00:00Z'), region: 'BE' })).toEqual([]);
      const weekly = await store.query({ granularity: 'weekly', start: dayStart, end: dayStart + 1, region: 'BE' });
      expect(weekly.map((r) => new Date(r.periodStart).toISOString())).toEqual(['2026-03-22T23:00:00.000Z']);
    });

    it('weeks can start on Sunday', async () => {
      await store.replaceWindow({
        start: at('2026-05-02T00:00:00Z'),
        end: at('2026-05-04T00:00:00Z'),
        timeZone: 'UTC',
        weekStart: 7,
        daily: [
          { dayStart: at('2026-05-02T00:00:00Z'), region: 'SU', pageName: '/', views: 1 }, // Saturday
          { dayStart: at('2026-05-03T00:00:00Z'), region: 'SU', pageName: '/', views: 2 }, // Sunday
        ],
        bots: [],
      });
      const weekly = await store.query({ granularity: 'weekly', start: at('2026-04-20T00:00:00Z'), end: at('2026-05-10T00:00:00Z'), region: 'SU' });
      expect(weekly.map((r) => [new Date(r.periodStart).toISOString(), r.views])).toEqual([
        ['2026-04-26T00:00:00.000Z', 1],
        ['2026-05-03T00:00:00.000Z', 2],
      ]);
    });

    it('stores and filters hostile region and page names byte-exact', async () => {
      const dayStart = at('2026-07-01T00:00:00Z');
      const daily = HOSTILE_NAMES.map((n, i) => ({ dayStart, region: n, pageName: n, views: i + 1 }));
      await store.replaceWindow({ start: dayStart, end: at('2026-07-02T00:00:00Z'), timeZone: 'UTC', weekStart: 1, daily, bots: [] });
      for (const [i, n] of HOSTILE_NAMES.entries()) {
        const rows = await store.query({ granularity: 'monthly', start: dayStart, end: dayStart + 1, region: n, pageName: n });
        expect(rows).toEqual([{ periodStart: dayStart, region: n, pageName: n, views: i + 1 }]);
      }
    });

    it('stats read the summed rollups exactly: views, distinct keys, breakdown, series, paging', async () => {
      // Two regions, three pages, 40 days across a month edge.
      const first = at('2031-01-20T00:00:00Z');
      const daily: DailyCount[] = [];
      for (let d = 0; d < 40; d++) {
        for (const [r, region] of ['S1', 'S2'].entries()) {
          for (const [p, pageName] of ['/a', '/b', '/c'].entries()) {
            const views = (d + r * 2 + p) % 4; // zero on some days
            if (views > 0) daily.push({ dayStart: first + d * 86_400_000, region, pageName, views });
          }
        }
      }
      await store.replaceWindow({ start: first, end: first + 40 * 86_400_000, timeZone: 'UTC', weekStart: 1, daily, bots: [{ dayStart: first, hits: 3 }] });
      const sum = (rows: typeof daily) => rows.reduce((n, r) => n + r.views, 0);
      // 2031-01-25 … 2031-02-26: part of January, whole weeks of February, edge days
      const days = { start: at('2031-01-25T00:00:00Z'), end: at('2031-02-27T00:00:00Z') };
      const inRange = daily.filter((r) => r.dayStart >= days.start && r.dayStart < days.end);
      const pieces = decomposeDays(days, 'UTC', 1);
      expect(pieces.weeks.length).toBeGreaterThan(0);
      expect(await store.views(pieces, {})).toBe(sum(inRange));
      expect(await store.views(pieces, { region: 'S2' })).toBe(sum(inRange.filter((r) => r.region === 'S2')));
      expect(await store.views(pieces, { pageName: '/b' })).toBe(sum(inRange.filter((r) => r.pageName === '/b')));
      expect(await store.views(pieces, { region: 'S1', pageName: '/c' })).toBe(sum(inRange.filter((r) => r.region === 'S1' && r.pageName === '/c')));
      expect(await store.distinct('page', pieces, { region: 'S1' })).toBe(3);
      expect(await store.distinct('region', pieces, {})).toBe(2);
      const byPage = ['/a', '/b', '/c']
        .map((key) => ({ key, views: sum(inRange.filter((r) => r.pageName === key)) }))
        .sort((a, b) => b.views - a.views || (a.key < b.key ? -1 : 1));
      const top = await store.breakdown({ by: 'page', pieces, filter: {}, limit: 2, offset: 0 });
      expect(top).toEqual({ total: sum(inRange), distinct: 3, rows: byPage.slice(0, 2) });
      expect((await store.breakdown({ by: 'page', pieces, filter: {}, limit: 2, offset: 2 })).rows).toEqual(byPage.slice(2));
      expect((await store.breakdown({ by: 'page', pieces, filter: {}, search: 'B', limit: 10, offset: 0 })).rows).toEqual(byPage.filter((r) => r.key === '/b'));
      const monthly = await store.series({ interval: 'monthly', ...days, timeZone: 'UTC', weekStart: 1, filter: { region: 'S1' } });
      expect(monthly).toEqual([
        { periodStart: at('2031-01-01T00:00:00Z'), views: sum(inRange.filter((r) => r.region === 'S1' && r.dayStart < at('2031-02-01T00:00:00Z'))) },
        { periodStart: at('2031-02-01T00:00:00Z'), views: sum(inRange.filter((r) => r.region === 'S1' && r.dayStart >= at('2031-02-01T00:00:00Z'))) },
      ]);
      expect(await store.botHits(first, first + 86_400_000)).toBe(3);
      // Paging with `after` walks every row once.
      const all = await store.query({ granularity: 'daily', ...days });
      const paged: RollupRow[] = [];
      let after: RollupRow | undefined;
      for (;;) {
        const page = await store.query({ granularity: 'daily', ...days, limit: 7, after });
        paged.push(...page);
        if (page.length < 7) break;
        after = page.at(-1);
      }
      expect(paged).toEqual(all);
      expect(all.reduce((n, r) => n + r.views, 0)).toBe(sum(inRange));
    });

    it('a month taken whole minus its days outside the range answers exactly; keys seen only outside are not counted', async () => {
      // 2034: no other test writes there. /only-out has views only on 1–2 November, outside the range.
      const first = at('2034-11-01T00:00:00Z');
      const daily: DailyCount[] = [];
      for (let d = 0; d < 35; d++) {
        const dayStart = first + d * 86_400_000;
        daily.push({ dayStart, region: 'T1', pageName: '/every', views: 1 + (d % 3) });
        if (d % 5 === 0) daily.push({ dayStart, region: 'T2', pageName: '/fifth', views: 4 });
        if (d < 2) daily.push({ dayStart, region: 'T3', pageName: '/only-out', views: 7 });
      }
      await store.replaceWindow({ start: first, end: first + 35 * 86_400_000, timeZone: 'UTC', weekStart: 1, daily, bots: [] });
      // 3 November … 2 December: November minus 1–2 November, plus 1–2 December
      const days = { start: at('2034-11-03T00:00:00Z'), end: at('2034-12-03T00:00:00Z') };
      const pieces = decomposeDays(days, 'UTC', 1);
      expect(pieces.minus?.days.length).toBe(2);
      const inRange = daily.filter((r) => r.dayStart >= days.start && r.dayStart < days.end);
      const sum = (rows: typeof daily) => rows.reduce((n, r) => n + r.views, 0);
      expect(await store.views(pieces, {})).toBe(sum(inRange));
      expect(await store.views(pieces, { region: 'T3' })).toBe(0);
      expect(await store.views(pieces, { pageName: '/fifth' })).toBe(sum(inRange.filter((r) => r.pageName === '/fifth')));
      expect(await store.distinct('page', pieces, {})).toBe(2);
      expect(await store.distinct('region', pieces, {})).toBe(2);
      expect(await store.distinct('page', pieces, { region: 'T3' })).toBe(0);
      const byPage = ['/every', '/fifth'].map((key) => ({ key, views: sum(inRange.filter((r) => r.pageName === key)) })).sort((a, b) => b.views - a.views);
      expect(await store.breakdown({ by: 'page', pieces, filter: {}, limit: 10, offset: 0 })).toEqual({ total: sum(inRange), distinct: 2, rows: byPage });
      expect(await store.breakdown({ by: 'region', pieces, filter: { pageName: '/only-out' }, limit: 10, offset: 0 })).toEqual({
        total: 0,
        distinct: 0,
        rows: [],
      });
    });

    it('quarters and years follow every write (windows replaced up and down, keys gone, events folded) in the report zone', async () => {
      // 2036 in Berlin: no other test writes there. The quarter and year rows are kept by
      // addition; every answer read from them must equal the sum of the days.
      const zone = 'Europe/Berlin';
      const day = (date: string) => DateTime.fromISO(date, { zone }).toMillis();
      const window = async (from: string, to: string, daily: DailyCount[]) =>
        await store.replaceWindow({ start: day(from), end: day(to), timeZone: zone, weekStart: 1, daily, bots: [] });
      const row = (date: string, region: string, pageName: string, views: number): DailyCount => ({ dayStart: day(date), region, pageName, views });
      // Across the end of the first quarter.
      await window('2036-03-30', '2036-04-03', [
        row('2036-03-30', 'R1', '/a', 5),
        row('2036-03-31', 'R1', '/a', 7),
        row('2036-03-31', 'R2', '/b', 3),
        row('2036-04-01', 'R1', '/a', 2),
        row('2036-04-02', 'R2', '/b', 9),
        row('2036-04-02', 'R2', '/c', 1),
      ]);
      // Events folded in: 30 June 22:30 UTC is 1 July 00:30 in Berlin, the third quarter.
      const ev = (offset: number, iso: string, region: string, pageName: string) => ({
        partition: 3,
        offset: String(offset),
        timestamp: at(iso),
        region,
        pageName,
        bot: false,
      });
      await store.recordProcessed([
        ev(0, '2036-06-30T22:30:00Z', 'R1', '/a'),
        ev(1, '2036-06-30T21:30:00Z', 'R3', '/a'),
        ev(2, '2036-11-02T10:00:00Z', 'R2', '/b'),
      ]);
      await store.foldPending(zone, 1);
      // A recompute lowers one count, removes /b on 31 March and /c altogether, and adds a page.
      await window('2036-03-31', '2036-04-03', [
        row('2036-03-31', 'R1', '/a', 4),
        row('2036-04-01', 'R1', '/a', 2),
        row('2036-04-02', 'R2', '/b', 9),
        row('2036-04-02', 'R1', '/d', 6),
      ]);

      const truth = await store.query({ granularity: 'daily', start: day('2036-01-01'), end: day('2037-01-01') });
      const check = async (from: string, to: string, shape: (pieces: ReturnType<typeof decomposeDays>) => void) => {
        const days = { start: day(from), end: day(to) };
        const pieces = decomposeDays(days, zone, 1);
        shape(pieces);
        const inRange = truth.filter((r) => r.periodStart >= days.start && r.periodStart < days.end);
        const sum = (rows: RollupRow[]) => rows.reduce((n, r) => n + r.views, 0);
        const keys = (rows: RollupRow[], k: 'region' | 'pageName') => new Set(rows.map((r) => r[k])).size;
        expect(await store.views(pieces, {})).toBe(sum(inRange));
        expect(await store.views(pieces, { region: 'R2' })).toBe(sum(inRange.filter((r) => r.region === 'R2')));
        expect(await store.views(pieces, { pageName: '/a' })).toBe(sum(inRange.filter((r) => r.pageName === '/a')));
        expect(await store.distinct('page', pieces, {})).toBe(keys(inRange, 'pageName'));
        expect(await store.distinct('region', pieces, {})).toBe(keys(inRange, 'region'));
        expect(await store.distinct('page', pieces, { region: 'R2' })).toBe(
          keys(
            inRange.filter((r) => r.region === 'R2'),
            'pageName',
          ),
        );
        const byPage = [...new Set(inRange.map((r) => r.pageName))]
          .map((key) => ({ key, views: sum(inRange.filter((r) => r.pageName === key)) }))
          .sort((a, b) => b.views - a.views || (a.key < b.key ? -1 : 1));
        expect(await store.breakdown({ by: 'page', pieces, filter: {}, limit: 10, offset: 0 })).toEqual({
          total: sum(inRange),
          distinct: byPage.length,
          rows: byPage,
        });
      };
      expect(truth.map((r) => r.pageName)).not.toContain('/c');
      await check('2036-01-01', '2037-01-01', (p) => expect(p.years).toEqual(['2036-01-01']));
      await check('2036-04-01', '2036-07-01', (p) => expect(p.quarters).toEqual(['2036-04-01']));
      await check('2036-01-01', '2036-10-01', (p) => expect([p.years, p.minus?.quarters]).toEqual([['2036-01-01'], ['2036-10-01']]));
      await check('2036-04-01', '2036-09-01', (p) => expect([p.quarters, p.months.length]).toEqual([['2036-04-01'], 2]));
      await check('2036-01-01', '2036-12-31', (p) => expect(p.minus).toBeDefined());
      await check('2036-03-31', '2036-07-02', () => {});
    });

    it('incremental: recorded events fold in once; a redelivered batch adds nothing; a recompute at a cut leaves later events pending', async () => {
      // Partition 7 of some log.
      const t0 = at('2032-03-10T10:00:00Z');
      const ev = (offset: number, minutes: number, region: string, pageName: string, bot = false) => ({
        partition: 7,
        offset: String(offset),
        timestamp: t0 + minutes * 60_000,
        region,
        pageName,
        bot,
      });
      const daysOf = { start: at('2032-03-01T00:00:00Z'), end: at('2032-04-01T00:00:00Z') };
      const month = decomposeDays(daysOf, 'UTC', 1);
      const rowsOf = async () => await store.query({ granularity: 'daily', ...daysOf });

      await store.claimPartitions([{ partition: 7, through: '99' }]);
      await store.claimPartitions([{ partition: 7, through: '5' }]); // a second claim changes nothing
      const first = [ev(100, 0, 'IN', '/x'), ev(101, 1, 'IN', '/x'), ev(102, 20 * 60, 'IN', '/y'), ev(103, 2, 'IN', '/x', true)];
      expect(await store.recordProcessed(first)).toBe(4);
      expect(await store.recordProcessed(first)).toBe(0); // redelivered
      expect(await store.recordProcessed([...first, ev(104, 3, 'JP', '/x')])).toBe(1); // overlapping redelivery
      const folded = await store.foldPending('UTC', 1);
      expect(folded).toMatchObject({ daily: 3, views: 4, botHits: 1 });
      expect((await store.foldPending('UTC', 1)).pending).toBe(0);
      expect(await rowsOf()).toEqual([
        { periodStart: at('2032-03-10T00:00:00Z'), region: 'IN', pageName: '/x', views: 2 },
        { periodStart: at('2032-03-10T00:00:00Z'), region: 'JP', pageName: '/x', views: 1 },
        { periodStart: at('2032-03-11T00:00:00Z'), region: 'IN', pageName: '/y', views: 1 },
      ]);
      expect(await store.views(month, { pageName: '/x' })).toBe(3);
      expect(await store.views(decomposeDays({ start: at('2032-03-08T00:00:00Z'), end: at('2032-03-15T00:00:00Z') }, 'UTC', 1), {})).toBe(4);

      // A recompute reads the store at a cut; events recorded after the cut stay pending.
      const cut = await store.cut();
      expect(cut.positions).toContainEqual({ partition: 7, through: '104' });
      expect(await store.recordProcessed([ev(105, 5, 'IN', '/x'), ev(106, 6, 'IN', '/z')])).toBe(2);
      await store.replaceWindow({
        start: at('2032-03-10T00:00:00Z'),
        end: at('2032-03-12T00:00:00Z'),
        timeZone: 'UTC',
        weekStart: 1,
        // what the event store holds at the cut
        daily: [
          { dayStart: at('2032-03-10T00:00:00Z'), region: 'IN', pageName: '/x', views: 2 },
          { dayStart: at('2032-03-10T00:00:00Z'), region: 'JP', pageName: '/x', views: 1 },
          { dayStart: at('2032-03-11T00:00:00Z'), region: 'IN', pageName: '/y', views: 1 },
        ],
        bots: [{ dayStart: at('2032-03-10T00:00:00Z'), hits: 1 }],
        cut,
        mode: 'window',
      });
      await store.foldPending('UTC', 1);
      expect(await store.views(month, {})).toBe(6);
      expect(await store.breakdown({ by: 'page', pieces: month, filter: { region: 'IN' }, limit: 10, offset: 0 })).toEqual({
        total: 5,
        distinct: 3,
        rows: [
          { key: '/x', views: 3 },
          { key: '/y', views: 1 },
          { key: '/z', views: 1 },
        ],
      });
      expect(await store.lastWindowRecompute()).toBeGreaterThan(Date.now() - 60_000);

      // A fold between the cut and the replace would be overwritten: the replace refuses.
      const stale = await store.cut();
      await store.recordProcessed([ev(107, 7, 'IN', '/x')]);
      await store.foldPending('UTC', 1);
      await expect(
        store.replaceWindow({
          start: at('2032-03-10T00:00:00Z'),
          end: at('2032-03-11T00:00:00Z'),
          timeZone: 'UTC',
          weekStart: 1,
          daily: [],
          bots: [],
          cut: stale,
        }),
      ).rejects.toBeInstanceOf(CutMovedError);
      expect(await store.views(month, {})).toBe(7);
    });

    it('reports readiness', async () => {
      expect(await store.ready()).toBe(true);
    });
  });
}
