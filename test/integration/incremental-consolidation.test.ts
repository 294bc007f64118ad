// Consolidation follows the new events: a scheduled run folds in what processing recorded since
// the last run (it touches only those rows, counted here, not timed), and a full recompute from
// the event store gives the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postEvents, startEmbeddedApp, waitForProcessed, type TestApp } from '../helpers/embedded-app.js';
import { generateEvents } from '../helpers/events.js';
import { apiCounts, expectedCounts, type RawEvent } from '../helpers/expected-counts.js';

const TZ = 'Europe/Berlin';
const DAY = 86_400_000;

describe('incremental consolidation (embedded)', () => {
  let t: TestApp;
  const sent: RawEvent[] = [];
  const now = Date.now();
  const range = `startTime=${new Date(now - 40 * DAY).toISOString()}&endTime=${new Date(now + DAY).toISOString()}&limit=100000`;
  const rows = async (g: string) => (await t.get(`/aggregated-data/region-${g}?${range}`)).body.rows;
  const send = async (events: RawEvent[]) => {
    expect(await postEvents(t.url, events)).toBe(events.length);
    sent.push(...events);
    await waitForProcessed(t.app, now - 40 * DAY, now + DAY, sent.length);
  };

  beforeAll(async () => {
    t = await startEmbeddedApp({ REPORT_TIMEZONE: TZ, LATE_ARRIVAL_WINDOW: '30d', CONSOLIDATE_SCHEDULE: '0 0 1 1 *' });
    // A month of history, spread over the late-arrival window.
    await send(generateEvents(1_500, 3).map((e, i) => ({ ...e, timestamp: now - 29 * DAY + ((i * 7_919_993) % (29 * DAY)) })));
    const first = await t.post('/admin/consolidate');
    expect(first.status).toBe(200);
    expect(first.body.mode).toBe('recompute'); // the first run recomputes the window
  });
  afterAll(async () => await t?.close());

  it('folds in only what changed: new and late events, counted once', async () => {
    const before = await rows('daily');
    // Two new keys, one existing key again, and a late event three weeks back.
    const known = sent[0]!;
    await send([
      { timestamp: now - 60_000, region: 'NZ', pageName: '/new' },
      { timestamp: now - 50_000, region: 'NZ', pageName: '/new' },
      { timestamp: now - 21 * DAY, region: 'IS', pageName: '/late' },
      { timestamp: known.timestamp + 1, region: known.region, pageName: known.pageName },
    ]);
    const run = await t.post('/admin/consolidate');
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ mode: 'incremental', views: 4 });
    // Three (day, region, page) rows touched, not the window's hundreds.
    expect(run.body.dailyRows).toBe(3);
    expect(before.length).toBeGreaterThan(100);
    const after = await rows('daily');
    expect(after.length).toBe(before.length + 2);
    expect(apiCounts(after, TZ)).toEqual(expectedCounts(sent, 'daily', TZ, 1));
    // Nothing pending: the next run touches nothing.
    const idle = await t.post('/admin/consolidate');
    expect(idle.body).toMatchObject({ mode: 'incremental', dailyRows: 0, pendingRows: 0 });
  });

  it('a full recompute from the event store gives identical rows, weeks, months and stats', async () => {
    const granularities = ['daily', 'weekly', 'monthly'];
    const incremental = await Promise.all(granularities.map(rows));
    const stats = (await t.get(`/aggregated-data/breakdown?by=page&limit=1000&startTime=${new Date(now - 40 * DAY).toISOString()}`)).body;
    const full = await t.post('/admin/consolidate?recompute=true');
    expect(full.body.mode).toBe('recompute');
    expect(await Promise.all(granularities.map(rows))).toEqual(incremental);
    expect((await t.get(`/aggregated-data/breakdown?by=page&limit=1000&startTime=${new Date(now - 40 * DAY).toISOString()}`)).body).toEqual(stats);
    for (const [i, g] of granularities.entries()) expect(apiCounts(incremental[i], TZ)).toEqual(expectedCounts(sent, g as 'daily', TZ, 1));
  });

  it('a recompute drops the pending deltas it counted; events after it fold in once', async () => {
    await send([{ timestamp: now - 2 * DAY, region: 'NZ', pageName: '/during' }]);
    // Not folded yet: a recompute at the current cut counts it and drops its pending delta.
    await t.post('/admin/consolidate?recompute=true');
    await send([{ timestamp: now - 2 * DAY, region: 'NZ', pageName: '/during' }]);
    const run = await t.post('/admin/consolidate');
    expect(run.body).toMatchObject({ mode: 'incremental', views: 1 });
    expect(apiCounts(await rows('daily'), TZ)).toEqual(expectedCounts(sent, 'daily', TZ, 1));
  });
});
