import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents } from '../helpers/events.js';
import { apiCounts, expectedCounts, type Granularity } from '../helpers/expected-counts.js';
import { postEvents, startEmbeddedApp, waitForProcessed, type TestApp } from '../helpers/embedded-app.js';

const CASES = [
  { timeZone: 'UTC', weekStart: 'monday', weekDay: 1 },
  { timeZone: 'Europe/Berlin', weekStart: 'monday', weekDay: 1 },
  { timeZone: 'America/New_York', weekStart: 'sunday', weekDay: 7 },
];

describe.each(CASES)('embedded pipeline, REPORT_TIMEZONE=$timeZone WEEK_START=$weekStart', ({ timeZone, weekStart, weekDay }) => {
  let t: TestApp;
  const events = generateEvents(4_000, 42);

  beforeAll(async () => {
    t = await startEmbeddedApp({ REPORT_TIMEZONE: timeZone, WEEK_START: weekStart, LATE_ARRIVAL_WINDOW: '1500d' });
    const acknowledged = await postEvents(
      t.url,
      events.map((e) => ({ timestamp: e.timestamp, region: e.region, pageName: e.pageName })),
    );
    expect(acknowledged).toBe(events.length);
    await waitForProcessed(t.app, Date.parse('2024-01-01T00:00:00Z'), Date.parse('2026-02-01T00:00:00Z'), events.length);
    const run = await t.post('/admin/consolidate?from=2024-02-01&to=2026-01-31');
    expect(run.status).toBe(200);
    expect(run.body.timezone).toBe(timeZone);
  });
  afterAll(async () => await t?.close());

  const range = 'startTime=2024-01-01T00:00:00Z&endTime=2026-03-01T00:00:00Z';

  it.each(['daily', 'weekly', 'monthly'] as Granularity[])('%s rows equal independently computed counts', async (g) => {
    const res = await t.get(`/aggregated-data/region-${g}?${range}`);
    expect(res.status).toBe(200);
    expect(res.body.granularity).toBe(g);
    expect(res.body.timezone).toBe(timeZone);
    const expected = expectedCounts(events, g, timeZone, weekDay);
    expect(apiCounts(res.body.rows, timeZone)).toEqual(expected);
    const total = res.body.rows.reduce((n: number, r: { views: number }) => n + r.views, 0);
    expect(total).toBe(events.length);
  });

  it('rows are sorted by periodStart, region, pageName', async () => {
    const { body } = await t.get(`/aggregated-data/region-daily?${range}`);
    const keys = body.rows.map((r: any) => [r.periodStart, r.region, r.pageName]);
    const sorted = [...keys].sort((a, b) => {
      for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return Buffer.compare(Buffer.from(a[i]), Buffer.from(b[i]));
      return 0;
    });
    expect(keys).toEqual(sorted);
  });

  it('filters by region and page name', async () => {
    const { body } = await t.get(`/aggregated-data/region-monthly?${range}&region=de&pageName=${encodeURIComponent('/blog/ünïcødé')}`);
    const subset = events.filter((e) => e.region === 'DE' && e.pageName === '/blog/ünïcødé');
    expect(apiCounts(body.rows, timeZone)).toEqual(expectedCounts(subset, 'monthly', timeZone, weekDay));
  });

  it('returns every period overlapping [startTime, endTime)', async () => {
    // A range inside one week returns that whole week's row, and nothing of the next week.
    const { body } = await t.get('/aggregated-data/region-weekly?startTime=2025-01-01T12:00:00Z&endTime=2025-01-01T13:00:00Z');
    const starts = new Set(body.rows.map((r: any) => r.periodStart));
    expect(starts.size).toBe(1);
    const inWeek = events.filter((e) =>
      expectedCounts([e], 'weekly', timeZone, weekDay)
        .keys()
        .next()
        .value!.startsWith(
          [...expectedCounts([{ timestamp: Date.parse('2025-01-01T12:00:00Z'), region: '', pageName: '' }], 'weekly', timeZone, weekDay).keys()][0]!.split(
            '|',
          )[0]!,
        ),
    );
    expect(body.rows.reduce((n: number, r: any) => n + r.views, 0)).toBe(inWeek.length);
  });

  it('consolidating twice changes nothing', async () => {
    const before = await Promise.all(['daily', 'weekly', 'monthly'].map((g) => t.get(`/aggregated-data/region-${g}?${range}`)));
    const again = await t.post('/admin/consolidate?from=2024-02-01&to=2026-01-31');
    expect(again.status).toBe(200);
    const partial = await t.post('/admin/consolidate?from=2024-12-31&to=2025-01-02');
    expect(partial.status).toBe(200);
    const after = await Promise.all(['daily', 'weekly', 'monthly'].map((g) => t.get(`/aggregated-data/region-${g}?${range}`)));
    expect(after.map((r) => r.body.rows)).toEqual(before.map((r) => r.body.rows));
  });
});
