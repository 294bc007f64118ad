// InfluxDB pays per series: the page name is a field, so series follow partitions × regions and
// not the number of pages; legacy (schema 1) points are still counted.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxHttp } from '../../src/adapters/influx/client.js';
import type { LoggedEvent } from '../../src/domain/event.js';
import { InfluxEventStore } from '../../src/adapters/influx/event-store.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';

describe('InfluxDB series design', () => {
  let influx: InfluxDB;
  let http: InfluxHttp;
  const db = `series_${process.pid}`;
  beforeAll(async () => {
    influx = await startInfluxDB();
    http = new InfluxHttp(influx.url, undefined);
  });
  afterAll(async () => {
    http?.close();
    await influx?.stop();
  });

  const open = (name: string, maxPageNames = 10_000): Promise<InfluxEventStore> =>
    InfluxEventStore.open({ url: influx.url, db: name, token: undefined, retention: 'INF', maxPageNames, maxRegions: 100 });
  /** A page view as processing logs it: at `offset` of `partition`. */
  const view = (timestamp: number, region: string, pageName: string, partition: number, offset: number): LoggedEvent => ({
    timestamp,
    region,
    pageName,
    bot: false,
    partition,
    offset: String(offset),
  });
  const seriesOf = async (measurement: string): Promise<number> =>
    (await http.query(db, `SHOW SERIES FROM "${measurement}"`)).reduce((n, s) => n + s.values.length, 0);

  it('2 regions × 3 partitions × 500 pages make 6 series, and every view is counted', async () => {
    const store = await open(db);
    const day = Date.parse('2026-06-01T00:00:00Z');
    const events = Array.from({ length: 3_000 }, (_, i) => view(day + i * 1_000, i % 2 === 0 ? 'DE' : 'US', `/page/${i % 500}`, i % 3, i));
    await store.write(events);
    expect(await seriesOf('page_views')).toBe(6);
    expect(await seriesOf('page_names')).toBe(500);
    const counts = await store.dailyCounts(day, day + 86_400_000, 'UTC');
    expect(counts.length).toBe(500); // each page is seen from one region only (500 is even, so i % 2 follows i % 500)
    expect(counts.reduce((n, c) => n + c.views, 0)).toBe(3_000);

    // Points of schema 1 (page a tag) from before the upgrade still count, and their names stay known.
    await http.write(db, [`page_view,page=/legacy,partition=0,region=DE offset=99999i ${day + 5_000}000000`]);
    const withLegacy = await store.dailyCounts(day, day + 86_400_000, 'UTC');
    expect(withLegacy.find((c) => c.pageName === '/legacy')).toEqual({ dayStart: day, region: 'DE', pageName: '/legacy', views: 1 });
    await store.close();
    const reopened = await open(db, 501);
    // 500 names in page_names plus /legacy: the cap of 501 is full, a new name is (other)
    expect((await reopened.write([{ ...events[0]!, offset: '5000', pageName: '/brand-new' }]))[0]!.pageName).toBe('(other)');
    await reopened.close();
  });

  it('points of the earlier layout (an offset field) and of this one (the offset only in the time) are counted and cut alike', async () => {
    const mixed = `${db}_mixed`;
    const store = await open(mixed);
    const day = Date.parse('2026-06-02T00:00:00Z');
    const at = day + 13 * 3_600_000 + 7 * 60_000 + 1_234; // 13:07:01.234, in the quarter hour from 13:00
    const quarterSeconds = (day + 13 * 3_600_000) / 1000;
    // what the earlier release wrote for offsets 100 and 899,999,999,998 of partition 4: fields offset, t and page
    const earlier = (offset: number) => {
      const ns = BigInt(quarterSeconds) * 1_000_000_000n + BigInt(offset);
      return `page_views,partition=4,region=DE offset=${offset}i,t=${at}i,page="/mixed" ${ns}`;
    };
    await http.write(mixed, [earlier(100), earlier(899_999_999_998)]);
    // this release: offsets 101 and 899,999,999,999 (the last a quarter hour can hold) of the same partition
    await store.write([101, 899_999_999_999].map((offset) => view(at, 'DE', '/mixed', 4, offset)));
    const fields = await http.query(mixed, 'SHOW FIELD KEYS FROM "page_views"');
    expect(fields[0]!.values.map((v) => v[0]).sort()).toEqual(['offset', 'page', 't']); // the earlier points keep theirs
    const views = async (through?: number) =>
      (await store.dailyCounts(day, day + 86_400_000, 'UTC', through === undefined ? undefined : [{ partition: 4, through: String(through) }])).reduce(
        (n, c) => n + c.views,
        0,
      );
    expect(await views()).toBe(4);
    expect(await views(99)).toBe(0);
    expect(await views(100)).toBe(1);
    expect(await views(101)).toBe(2);
    expect(await views(899_999_999_998)).toBe(3);
    expect(await views(899_999_999_999)).toBe(4);
    // a redelivered event of the earlier layout is written again in this one: the same point, counted once
    await store.write([view(at, 'DE', '/mixed', 4, 100)]);
    expect(await views()).toBe(4);
    await store.close();
  });

  it('page names of multi-byte characters come back exactly from answers that arrive in many pieces', async () => {
    const wide = `${db}_wide`;
    const store = await open(wide);
    const day = Date.parse('2026-06-03T00:00:00Z');
    // ~2 MB of answer for one quarter hour, nearly all of it three-byte characters: its pieces end inside characters
    const name = (i: number) => `/日本語のページ/記事-${'長'.repeat(20)}-${i % 50}`;
    const events = Array.from({ length: 30_000 }, (_, i) => view(day + 3_600_000 + i, 'JP', name(i), i % 3, i));
    for (let i = 0; i < events.length; i += 5_000) await store.write(events.slice(i, i + 5_000));
    const counts = await store.dailyCounts(day, day + 86_400_000, 'UTC');
    expect(new Map(counts.map((c) => [c.pageName, c.views]))).toEqual(new Map(Array.from({ length: 50 }, (_, k) => [name(k), 600])));
    await store.close();
  });

  it('a recompute of a long, sparse range reads the quarter hours that hold points, not every quarter hour', async () => {
    const sparse = `${db}_sparse`;
    const store = await open(sparse);
    // two busy hours a year apart, in Europe/Berlin days
    const first = Date.parse('2025-03-30T00:40:00Z');
    const second = Date.parse('2026-03-29T23:50:00Z');
    const events = Array.from({ length: 600 }, (_, i) =>
      view((i < 300 ? first : second) + (i % 300) * 10_000, i % 3 === 0 ? 'SE' : 'DE', `/p/${i % 7}`, i % 2, i),
    );
    await store.write(events);
    const queries = async (): Promise<number> => {
      const stats = await http.query(undefined, `SHOW STATS FOR 'httpd'`);
      const columns = stats[0]!.columns;
      return Number(stats[0]!.values[0]![columns.indexOf('queryReq')]);
    };
    const before = await queries();
    const from = Date.parse('2025-01-01T00:00:00Z');
    const counts = await store.dailyCounts(from, Date.parse('2027-01-01T00:00:00Z'), 'Europe/Berlin');
    const asked = (await queries()) - before;
    // two years are 70,176 quarter hours; the points lie in 4 of them (2 hours × 2 quarter hours each) plus the counts
    expect(asked).toBeLessThan(20);
    const expected = new Map<string, number>();
    for (const e of events) {
      const key = `${DateTime.fromMillis(e.timestamp, { zone: 'Europe/Berlin' }).startOf('day').toMillis()}|${e.region}|${e.pageName}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const got = new Map(counts.map((c) => [`${c.dayStart}|${c.region}|${c.pageName}`, c.views]));
    expect(got).toEqual(expected);
    await store.close();
  });
});
