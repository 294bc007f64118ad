// The stats endpoints (summary, timeseries, breakdown) and the paged and streamed row endpoints
// against counts computed here from the events sent, with Intl dates and day arithmetic only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, postEvents, startEmbeddedApp, waitForProcessed, type TestApp } from '../helpers/embedded-app.js';
import { generateEvents } from '../helpers/events.js';
import { localTime, localYmd, periodKey, type Granularity, type RawEvent } from '../helpers/expected-counts.js';

const CASES = [
  { timeZone: 'UTC', weekStart: 'monday', weekDay: 1 },
  { timeZone: 'Europe/Berlin', weekStart: 'monday', weekDay: 1 },
  { timeZone: 'America/New_York', weekStart: 'sunday', weekDay: 7 },
];

const pad = (n: number): string => String(n).padStart(2, '0');
const dayNumber = (ymd: string): number => Date.parse(`${ymd}T00:00:00Z`) / 86_400_000;
const ymdOf = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);
const dates = new Map<string, string>();
/** Intl formatting is slow: each (instant, zone) is formatted once. */
const localDate = (instant: number, tz: string): string => {
  const key = `${instant}|${tz}`;
  let date = dates.get(key);
  if (date === undefined) {
    const [y, m, d] = localYmd(instant, tz);
    date = `${y}-${pad(m)}-${pad(d)}`;
    dates.set(key, date);
  }
  return date;
};
const keys = new Map<string, string>();
const periodOf = (instant: number, g: Granularity, tz: string, weekDay: number): string => {
  const key = `${instant}|${g}|${tz}|${weekDay}`;
  let period = keys.get(key);
  if (period === undefined) keys.set(key, (period = periodKey(instant, g, tz, weekDay)));
  return period;
};
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Ties on purpose: three pages with two views each on one day, far from the generated events. */
const TIES: RawEvent[] = ['/tie-c', '/tie-a', '/tie-b'].flatMap((pageName) =>
  [0, 1].map((i) => ({ timestamp: Date.parse(`2023-06-10T12:0${i}:00Z`), region: 'FR', pageName })),
);

interface Filter {
  region?: string;
  pageName?: string;
}

describe.each(CASES)('stats API, REPORT_TIMEZONE=$timeZone WEEK_START=$weekStart', ({ timeZone, weekStart, weekDay }) => {
  let t: TestApp;
  const events = [...generateEvents(3_000, 7), ...TIES];

  /** Events of the local days first … last (inclusive) that pass the filter. */
  const within = (first: string, last: string, f: Filter = {}) =>
    events.filter((e) => {
      const d = localDate(e.timestamp, timeZone);
      return d >= first && d <= last && (f.region === undefined || e.region === f.region) && (f.pageName === undefined || e.pageName === f.pageName);
    });
  const counts = (list: readonly RawEvent[], key: (e: RawEvent) => string) => {
    const m = new Map<string, number>();
    for (const e of list) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
    return m;
  };
  const ranked = (m: Map<string, number>) => [...m].map(([key, views]) => ({ key, views })).sort((a, b) => b.views - a.views || byteOrder(a.key, b.key));
  const query = (params: Record<string, string | number | undefined>) =>
    new URLSearchParams(
      Object.entries(params)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    ).toString();

  beforeAll(async () => {
    t = await startEmbeddedApp({ REPORT_TIMEZONE: timeZone, WEEK_START: weekStart, LATE_ARRIVAL_WINDOW: '1500d' });
    expect(await postEvents(t.url, events)).toBe(events.length);
    await waitForProcessed(t.app, Date.parse('2023-01-01T00:00:00Z'), Date.parse('2026-02-01T00:00:00Z'), events.length);
    const run = await t.post('/admin/consolidate?from=2023-06-01&to=2026-01-31');
    expect(run.status).toBe(200);
  });
  afterAll(async () => await t?.close());

  // Ranges with DST changes, month and ISO-week edges, a leap day, and a year boundary; dates are local.
  const RANGES = [
    ['2024-02-27', '2024-04-02'],
    ['2024-03-15', '2025-01-05'],
    ['2024-12-28', '2025-01-01'],
    ['2025-06-30', '2025-07-01'],
    // November taken whole minus 1–2 November, plus 1–2 December
    ['2024-11-03', '2024-12-02'],
  ] as const;
  const FILTERS: Filter[] = [{}, { region: 'DE' }, { pageName: '/blog/ünïcødé' }, { region: 'US', pageName: '/' }];

  it.each(RANGES)('summary %s … %s equals the events, with every filter', async (first, last) => {
    const days = dayNumber(last) - dayNumber(first) + 1;
    const prevFirst = ymdOf(dayNumber(first) - days);
    const prevLast = ymdOf(dayNumber(first) - 1);
    for (const f of FILTERS) {
      const res = await t.get(`/aggregated-data/summary?${query({ startTime: first, endTime: last, ...f })}`);
      expect(res.status).toBe(200);
      const inRange = within(first, last, f);
      expect(res.body).toMatchObject({
        timezone: timeZone,
        views: inRange.length,
        pages: new Set(inRange.map((e) => e.pageName)).size,
        regions: new Set(inRange.map((e) => e.region)).size,
        previous: { views: within(prevFirst, prevLast, f).length },
        botHits: 0,
      });
      // The effective range: local midnight of the first day to local midnight after the last.
      expect(localDate(Date.parse(res.body.startTime), timeZone)).toBe(first);
      expect(localTime(Date.parse(res.body.startTime), timeZone)).toBe('00:00:00');
      expect(localDate(Date.parse(res.body.endTime) - 1, timeZone)).toBe(last);
      expect(localDate(Date.parse(res.body.previous.startTime), timeZone)).toBe(prevFirst);
      expect(res.body.previous.endTime).toBe(res.body.startTime);
    }
  });

  it.each(['day', 'week', 'month'] as const)('timeseries by %s: every period, zeros included, cut at the range', async (interval) => {
    const g: Granularity = interval === 'day' ? 'daily' : interval === 'week' ? 'weekly' : 'monthly';
    for (const [first, last] of RANGES) {
      for (const f of FILTERS) {
        const res = await t.get(`/aggregated-data/timeseries?${query({ interval, startTime: first, endTime: last, ...f })}`);
        expect(res.status).toBe(200);
        // Expected periods: the period of every local day in the range, in order, each once.
        const periods: string[] = [];
        for (let d = dayNumber(first); d <= dayNumber(last); d++) {
          const key = periodOf(Date.parse(`${ymdOf(d)}T12:00:00Z`), g, 'UTC', weekDay);
          if (periods.at(-1) !== key) periods.push(key);
        }
        const expected = counts(within(first, last, f), (e) => periodOf(e.timestamp, g, timeZone, weekDay));
        const points = res.body.points as Array<{ periodStart: string; views: number }>;
        expect(points.map((p) => localDate(Date.parse(p.periodStart), timeZone))).toEqual(periods);
        for (const p of points) expect(localTime(Date.parse(p.periodStart), timeZone)).toBe('00:00:00');
        expect(points.map((p) => p.views)).toEqual(periods.map((k) => expected.get(k) ?? 0));
        expect(points.reduce((n, p) => n + p.views, 0)).toBe(within(first, last, f).length);
      }
    }
  });

  it.each(['page', 'region'] as const)('breakdown by %s: top rows, total, distinct, others, every filter', async (by) => {
    const keyOf = (e: RawEvent) => (by === 'page' ? e.pageName : e.region);
    for (const [first, last] of RANGES) {
      for (const f of FILTERS) {
        const all = ranked(counts(within(first, last, f), keyOf));
        const res = await t.get(`/aggregated-data/breakdown?${query({ by, startTime: first, endTime: last, limit: 3, ...f })}`);
        expect(res.status).toBe(200);
        const total = all.reduce((n, r) => n + r.views, 0);
        const top = all.slice(0, 3);
        expect(res.body).toMatchObject({ by, total, distinct: all.length, rows: top, others: total - top.reduce((n, r) => n + r.views, 0) });
      }
    }
  });

  it('breakdown pages through every key once with offset, search ignores case, ties go by key', async () => {
    const [first, last] = ['2023-06-01', '2026-01-31'];
    const all = ranked(counts(within(first, last), (e) => e.pageName));
    const seen: Array<{ key: string; views: number }> = [];
    for (let offset = 0; offset < all.length + 2; offset += 4) {
      const res = await t.get(`/aggregated-data/breakdown?${query({ by: 'page', startTime: first, endTime: last, limit: 4, offset })}`);
      expect(res.body.distinct).toBe(all.length);
      seen.push(...res.body.rows);
    }
    expect(seen).toEqual(all);

    const ties = await t.get(`/aggregated-data/breakdown?by=page&startTime=2023-06-10&endTime=2023-06-10`);
    expect(ties.body.rows).toEqual([
      { key: '/tie-a', views: 2 },
      { key: '/tie-b', views: 2 },
      { key: '/tie-c', views: 2 },
    ]);

    for (const search of ['BLOG/ÜN', 'ページ', "o'BRIEN", '%', '_']) {
      const expected = all.filter((r) => r.key.toLowerCase().includes(search.toLowerCase()));
      const res = await t.get(`/aggregated-data/breakdown?${query({ by: 'page', startTime: first, endTime: last, search, limit: 1000 })}`);
      expect(res.status).toBe(200);
      expect(res.body.rows).toEqual(expected);
      expect(res.body.distinct).toBe(expected.length);
      expect(res.body.total).toBe(expected.reduce((n, r) => n + r.views, 0));
      expect(res.body.others).toBe(0);
    }
  });

  it('breakdown as CSV streams every matching row', async () => {
    const [first, last] = ['2024-03-15', '2025-01-05'];
    const all = ranked(counts(within(first, last, { region: 'DE' }), (e) => e.pageName));
    const res = await fetch(`${t.url}/aggregated-data/breakdown?${query({ by: 'page', startTime: first, endTime: last, region: 'DE', format: 'csv' })}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(parseCsv(await res.text())).toEqual([['page', 'views'], ...all.map((r) => [csvSafe(r.key), String(r.views)])]);
  });

  it.each(['daily', 'weekly', 'monthly'] as const)('region-%s pages with nextCursor: every row exactly once; CSV and NDJSON equal JSON', async (g) => {
    const range = 'startTime=2024-01-01T00:00:00Z&endTime=2026-03-01T00:00:00Z';
    const whole = await t.get(`/aggregated-data/region-${g}?${range}&limit=100000`);
    expect(whole.status).toBe(200);
    expect(whole.body.nextCursor).toBeNull();
    const rows = whole.body.rows as Array<{ periodStart: string; region: string; pageName: string; views: number }>;
    expect(rows.length).toBeGreaterThan(30);

    const paged: typeof rows = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.get(`/aggregated-data/region-${g}?${range}&limit=13${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(res.status).toBe(200);
      expect(res.body.rows.length).toBeLessThanOrEqual(13);
      paged.push(...res.body.rows);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(paged).toEqual(rows);
    expect(pages).toBe(Math.ceil(rows.length / 13));

    const ndjson = await fetch(`${t.url}/aggregated-data/region-${g}?${range}&format=ndjson`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await ndjson.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(rows);

    const csv = await fetch(`${t.url}/aggregated-data/region-${g}?${range}&format=csv`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(parseCsv(await csv.text())).toEqual([
      ['periodStart', 'region', 'pageName', 'views'],
      ...rows.map((r) => [r.periodStart, csvSafe(r.region), csvSafe(r.pageName), String(r.views)]),
    ]);
  });

  it('a bare date as endTime includes that whole day', async () => {
    const res = await t.get('/aggregated-data/region-daily?startTime=2024-03-31&endTime=2024-03-31&limit=100000');
    expect(res.status).toBe(200);
    const expected = within('2024-03-31', '2024-03-31');
    expect(expected.length).toBeGreaterThan(0);
    expect(res.body.rows.reduce((n: number, r: { views: number }) => n + r.views, 0)).toBe(expected.length);
  });

  it.each([
    ['/aggregated-data/summary?startTime=1700000000', /looks like seconds/],
    ['/aggregated-data/region-daily?endTime=1700000000', /looks like seconds/],
    ['/aggregated-data/timeseries?interval=year', /interval/],
    ['/aggregated-data/breakdown?by=browser', /by/],
    ['/aggregated-data/breakdown', /by/],
    ['/aggregated-data/breakdown?by=page&limit=1001', /limit/],
    ['/aggregated-data/breakdown?by=page&limit=0', /limit/],
    ['/aggregated-data/breakdown?by=page&offset=-1', /offset/],
    ['/aggregated-data/breakdown?by=page&limit=x', /limit/],
    ['/aggregated-data/region-daily?limit=100001', /limit/],
    ['/aggregated-data/region-daily?cursor=bm90IGEgY3Vyc29y', /cursor/],
    ['/aggregated-data/region-daily?format=xml', /format/],
    ['/aggregated-data/summary?startTime=2025-01-02&endTime=2025-01-01', /before endTime/],
    ['/aggregated-data/summary?region=a%20b', /region/],
    ['/aggregated-data/summary?limit=3', /unknown parameter/],
    ['/aggregated-data/summary?region=DE&region=US', /give it once/],
  ])('%s → 400', async (path, message) => {
    const res = await t.get(path);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid query parameters');
    expect(res.body.details.join('; ')).toMatch(message);
  });
});

/** What the CSV holds for a cell that a spreadsheet would run as a formula. */
const csvSafe = (cell: string): string => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell);

/** RFC 4180, enough for these tests: quoted cells with doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
