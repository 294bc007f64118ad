// The tracker and the dashboard in real headless Chromium against the whole embedded pipeline.
// Every number the test expects is computed here from the events it sent, never read back from
// the app. Needs the UI build (`npm run build`; `npm test` builds first).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, postEvents, startEmbeddedApp, waitForProcessed, type TestApp } from '../helpers/embedded-app.js';
import {
  collectBeacons,
  collectPageErrors,
  DAY_MS,
  expectedCsv,
  expectedDashboard,
  FIRST_ROWS,
  isoDate,
  launchChromium,
  MORE_ROWS,
  newVisitorContext,
  parseCsv,
  presetRange,
  ranked,
  readDashboard,
  signIn,
  startTestSite,
  utcMidnight,
  watchApiTraffic,
  type Granularity,
  type Range,
  type SentEvent,
  type Shown,
  type TestSite,
} from './browser-helpers.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const POLL = { timeout: 20_000, interval: 100 };

const SEED_REGIONS = ['DE', 'US', 'GB'];
const SEED_PAGES = ['/', '/pricing', '/docs', '/blog/ünïcødé', '/a "quoted",page'];
/** A long tail of rarely viewed pages, so the pages table has more rows than it shows at first. */
const TAIL_PAGES = [
  ...Array.from({ length: 12 }, (_, i) => `/docs/guide-${String(i + 1).padStart(2, '0')}`),
  ...Array.from({ length: 8 }, (_, i) => `/blog/post-${i + 1}`),
];

/**
 * Known history: 1 to 40 days ago, three regions, five busy pages and twenty rare ones, counts
 * that differ per day, region and page (some zero, many ties among the rare pages), so each
 * preset, interval and filter gives different numbers.
 */
function seedEvents(today: number): SentEvent[] {
  const events: SentEvent[] = [];
  const add = (daysAgo: number, region: string, pageName: string, count: number, spread: number) => {
    for (let i = 0; i < count; i++) {
      const timestamp = today - daysAgo * DAY_MS + ((daysAgo + spread + i * 5) % 24) * 3_600_000 + i * 61_000;
      events.push({ timestamp, region, pageName });
    }
  };
  for (let daysAgo = 1; daysAgo <= 40; daysAgo++) {
    SEED_REGIONS.forEach((region, r) => {
      SEED_PAGES.forEach((pageName, p) => {
        add(daysAgo, region, pageName, (daysAgo * 7 + r * 5 + p * 3) % (4 + r), r * 7 + p * 3);
      });
      TAIL_PAGES.forEach((pageName, p) => {
        add(daysAgo, region, pageName, (daysAgo + r * 3 + p * 2) % 5 === 0 ? 1 : 0, r + p);
      });
    });
  }
  return events;
}

// The tests build on each other (the views of the first are part of every later expectation),
// so they run in order and only as a whole.
describe('in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let site: TestSite;
  /** Every page view the app has been sent so far (the expected data); bot hits apart. */
  const sent: SentEvent[] = [];
  let botHits = 0;
  let today = 0;

  beforeAll(async () => {
    for (const file of ['tracker/tracker.js', 'dashboard/index.html']) {
      if (!existsSync(DIST + file)) throw new Error(`dist/${file} is missing: run npm run build first`);
    }
    // "Today" must not change under the test: close to midnight UTC, start after it instead.
    const untilMidnight = utcMidnight(Date.now()) + DAY_MS - Date.now();
    if (untilMidnight < 3 * 60_000) await new Promise((resolve) => setTimeout(resolve, untilMidnight + 1_000));
    today = utcMidnight(Date.now());
    t = await startEmbeddedApp({
      REPORT_TIMEZONE: 'UTC',
      LATE_ARRIVAL_WINDOW: '400d',
      // The test consolidates when it wants to; keep the scheduler out of the way.
      CONSOLIDATE_SCHEDULE: '0 0 1 1 *',
    });
    browser = await launchChromium();
    site = await startTestSite(t.url);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await t?.close();
  });

  /** A signed-in dashboard page; its console errors and uncaught exceptions are collected. */
  async function openDashboard(context: BrowserContext, path = '/'): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await signIn(page, t.url, ADMIN_PASSWORD, path);
    return { page, errors };
  }

  /** Waits until the dashboard shows exactly what the sent events say for these filters. */
  async function expectDashboard(page: Page, granularity: Granularity, range: Range, shown: Shown = {}): Promise<void> {
    const expected = expectedDashboard(sent, granularity, range, shown);
    await expect.poll(() => readDashboard(page), POLL).toEqual(expected);
  }

  /** The dashboard reads only the stats endpoints, never the raw rollup rows. */
  const STATS_API = /^\/aggregated-data\/(summary|timeseries|breakdown|realtime|regions)(\?|$)/;

  const preset = (id: '7d' | '30d' | '12m') => presetRange(id, Date.now());

  /** A beacon's page name, or what went wrong with it. */
  const pageNameOf = (body: string): string => {
    try {
      return (JSON.parse(body) as { pageName: string }).pageName;
    } catch {
      return body;
    }
  };

  /** The test site renders its current URL; waiting for it means the navigation happened. */
  const expectView = (page: Page, text: string) => expect.poll(() => page.locator('#view').textContent(), POLL).toBe(text);

  it('the tracker counts one view on load and per SPA navigation, and none when opted out', async () => {
    // A visitor: load, two pushState navigations, a replaceState and a pushState that keep the
    // path, Back twice (popstate), and a custom event through the tracker's API.
    const visitor = await newVisitorContext(browser);
    const beacons = await collectBeacons(visitor);
    const page = await visitor.newPage();
    const errors = collectPageErrors(page);
    const beaconPages = () => beacons.map(pageNameOf);

    await page.goto(`${site.url}/`);
    await expect.poll(beaconPages, POLL).toEqual(['/']);
    await page.getByRole('link', { name: 'Pricing' }).click();
    await page.getByRole('link', { name: 'Docs' }).click();
    await expect.poll(beaconPages, POLL).toEqual(['/', '/pricing', '/docs']);
    await page.locator('#tab').click(); // replaceState to /docs?tab=1: same path, no view
    await page.getByRole('link', { name: 'Docs' }).click(); // pushState to /docs again: no view
    await expectView(page, 'Page /docs');
    await page.goBack(); // /docs?tab=1: same path, no view
    await expectView(page, 'Page /docs?tab=1');
    await page.goBack(); // /pricing
    await expectView(page, 'Page /pricing');
    await page.goBack(); // /
    await expectView(page, 'Page /');
    await page.evaluate(() => (window as unknown as { pageStats: { track(name: string): void } }).pageStats.track('/signup-complete'));
    const visits = ['/', '/pricing', '/docs', '/pricing', '/', '/signup-complete'];
    await expect.poll(beaconPages, POLL).toEqual(visits);
    expect(errors).toEqual([]);
    await visitor.close();

    // A visitor who opted out: nothing on load, navigation or track(). Clearing the flag then
    // proves the tracker was running all along: the next navigation is the first beacon.
    const optedOut = await newVisitorContext(browser, {
      storageState: { cookies: [], origins: [{ origin: site.url, localStorage: [{ name: 'page-stats:ignore', value: 'true' }] }] },
    });
    const optedOutBeacons = await collectBeacons(optedOut);
    const quiet = await optedOut.newPage();
    await quiet.goto(`${site.url}/`);
    await quiet.getByRole('link', { name: 'Pricing' }).click();
    await quiet.evaluate(() => (window as unknown as { pageStats: { track(): void } }).pageStats.track());
    await quiet.evaluate(() => localStorage.removeItem('page-stats:ignore'));
    await quiet.getByRole('link', { name: 'Docs' }).click();
    await expect.poll(() => optedOutBeacons.length, POLL).toBe(1);
    expect(optedOutBeacons.map(pageNameOf)).toEqual(['/docs']);
    await optedOut.close();

    // Headless Chromium's own user agent is a bot: acknowledged, counted apart, not a view.
    const bot = await newVisitorContext(browser, { headlessUserAgent: true });
    const botBeacons = await collectBeacons(bot);
    await (await bot.newPage()).goto(`${site.url}/pricing`);
    await expect.poll(() => botBeacons.length, POLL).toBe(1);
    await bot.close();

    // The loopback address has no GeoIP country: the server files these views under "unknown".
    const viewedAt = Date.now();
    for (const pageName of [...visits, '/docs']) sent.push({ timestamp: viewedAt, region: 'unknown', pageName });
    botHits = 1;
    await waitForProcessed(t.app, today, today + DAY_MS, sent.length + botHits);

    const perPage = (rows: { pageName: string; views: number }[]) => {
      const counts: Record<string, number> = {};
      for (const row of rows) counts[row.pageName] = (counts[row.pageName] ?? 0) + row.views;
      return counts;
    };
    const expectedPerPage = { '/': 2, '/pricing': 2, '/docs': 2, '/signup-complete': 1 };

    const realtime = await t.get('/aggregated-data/realtime?minutes=60');
    expect(realtime.status).toBe(200);
    expect(realtime.body.total).toBe(7);
    expect(perPage(realtime.body.rows)).toEqual(expectedPerPage);

    const run = await t.post(`/admin/consolidate?from=${isoDate(today)}&to=${isoDate(today)}`);
    expect(run.status).toBe(200);
    const daily = await t.get(`/aggregated-data/region-daily?startTime=${isoDate(today)}&endTime=${isoDate(today + DAY_MS)}`);
    expect(daily.status).toBe(200);
    expect(daily.body.rows.map((r: { region: string }) => r.region)).toEqual(Array(4).fill('unknown'));
    expect(perPage(daily.body.rows)).toEqual(expectedPerPage);
    const bots = await t.get(`/aggregated-data/bots?startTime=${isoDate(today)}&endTime=${isoDate(today + DAY_MS)}`);
    expect(bots.body.total).toBe(1);
  });

  it('the dashboard signs in and shows exactly the views sent; interval, region and range change chart and tables', async () => {
    const seeded = seedEvents(today);
    expect(await postEvents(t.url, seeded)).toBe(seeded.length);
    sent.push(...seeded);
    await waitForProcessed(t.app, today - 45 * DAY_MS, today + DAY_MS, sent.length + botHits);
    const run = await t.post(`/admin/consolidate?from=${isoDate(today - 45 * DAY_MS)}&to=${isoDate(today)}`);
    expect(run.status).toBe(200);

    const context = await newVisitorContext(browser);
    const traffic = watchApiTraffic(context);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    // A wrong password first: a clear message, still signed out.
    await page.goto(t.url);
    await page.getByTestId('login-password').fill('not the password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    expect(await page.getByTestId('logout').count()).toBe(0);
    // The failed sign-in's 401 is logged by the browser itself; the happy path starts here.
    errors.length = 0;
    await signIn(page, t.url, ADMIN_PASSWORD);

    // Default: last 30 days, daily, all regions.
    await expectDashboard(page, 'daily', preset('30d'));
    await expect.poll(() => page.getByTestId('bot-hits').getAttribute('data-value'), POLL).toBe(String(botHits));
    const thirty = preset('30d');
    const previous = sent.filter((e) => e.timestamp >= thirty.start - 30 * DAY_MS && e.timestamp < thirty.start).length;
    const current = sent.filter((e) => e.timestamp >= thirty.start && e.timestamp < thirty.end).length;
    await expect.poll(() => page.getByTestId('total-change').getAttribute('data-value'), POLL).toBe((((current - previous) / previous) * 100).toFixed(2));
    // The unicode page name arrives byte-exact.
    expect(await page.locator('[data-testid="pages-table"] tr[data-page="/blog/ünïcødé"]').count()).toBe(1);

    await page.getByTestId('granularity-weekly').click();
    await expectDashboard(page, 'weekly', preset('30d'));
    await page.getByTestId('granularity-monthly').click();
    await expectDashboard(page, 'monthly', preset('30d'));

    await page.getByTestId('range-preset').selectOption('7d');
    await expectDashboard(page, 'monthly', preset('7d'));
    await page.getByTestId('granularity-daily').click();
    await expectDashboard(page, 'daily', preset('7d'));
    expect((await readDashboard(page)).chart?.values).toHaveLength(7);

    await page.getByTestId('region-filter').selectOption('US');
    await expectDashboard(page, 'daily', preset('7d'), { region: 'US' });
    await page.getByTestId('range-preset').selectOption('12m');
    await expectDashboard(page, 'daily', preset('12m'), { region: 'US' });
    await page.getByTestId('granularity-monthly').click();
    await expectDashboard(page, 'monthly', preset('12m'), { region: 'US' });
    expect((await readDashboard(page)).chart?.values).toHaveLength(12);

    await page.getByTestId('region-filter').selectOption('unknown');
    await expectDashboard(page, 'monthly', preset('12m'), { region: 'unknown' });
    await page.getByTestId('region-filter').selectOption('');
    await page.getByTestId('granularity-weekly').click();
    await expectDashboard(page, 'weekly', preset('12m'));

    expect(errors).toEqual([]);
    await context.close();
    // Every state above was drawn from the stats endpoints alone.
    expect(traffic.urls.length).toBeGreaterThan(0);
    expect(traffic.urls.filter((url) => !STATS_API.test(url))).toEqual([]);
  });

  it('12 months load in a few requests of a few kilobytes, none of them raw rollup rows', async () => {
    const context = await newVisitorContext(browser);
    const traffic = watchApiTraffic(context);
    const { page, errors } = await openDashboard(context, '/?range=12m');
    await expectDashboard(page, 'daily', preset('12m'));
    await expect.poll(() => page.getByTestId('realtime-total').getAttribute('data-value'), POLL).not.toBe('');
    await page.getByTestId('granularity-monthly').click();
    await expectDashboard(page, 'monthly', preset('12m'));
    await traffic.settled();

    // Sized by what is on screen: the summary, one point per day or month, ten rows per table,
    // the live panel's per-minute counts and the region list, whatever the number of pages.
    expect(traffic.urls.some((url) => url.startsWith('/aggregated-data/region-'))).toBe(false);
    expect(traffic.urls.filter((url) => !STATS_API.test(url))).toEqual([]);
    for (const endpoint of ['summary', 'timeseries', 'breakdown', 'realtime', 'regions']) {
      expect(traffic.urls.some((url) => url.startsWith(`/aggregated-data/${endpoint}`))).toBe(true);
    }
    expect(traffic.urls.filter((url) => url.startsWith('/aggregated-data/breakdown')).every((url) => url.includes(`limit=${FIRST_ROWS}`))).toBe(true);
    expect(traffic.urls.filter((url) => url.startsWith('/aggregated-data/realtime')).every((url) => url.includes('rows=false'))).toBe(true);
    expect(traffic.bytes()).toBeGreaterThan(0);
    expect(traffic.bytes()).toBeLessThan(200_000);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('tables show the top rows; Show more, search and Others follow the server', async () => {
    const context = await newVisitorContext(browser);
    const traffic = watchApiTraffic(context);
    const { page, errors } = await openDashboard(context);
    const range = preset('30d');
    const inRange = sent.filter((e) => e.timestamp >= range.start && e.timestamp < range.end);
    const pageCount = ranked(inRange, 'pageName').length;
    // The seed makes sure there is more than one table page to show.
    expect(pageCount).toBeGreaterThan(FIRST_ROWS);
    expect(pageCount).toBeLessThanOrEqual(FIRST_ROWS + MORE_ROWS);

    await expectDashboard(page, 'daily', range);
    const first = await readDashboard(page);
    expect(first.pages).toHaveLength(FIRST_ROWS);
    expect(first.pagesOthers).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('pages-table-count').textContent(), POLL).toBe(`${pageCount} pages`);

    // Show more: the rest of the pages, so no "Others" line and no more button.
    await page.getByTestId('pages-table-more').click();
    await expectDashboard(page, 'daily', range, { pageRows: FIRST_ROWS + MORE_ROWS });
    expect(await page.getByTestId('pages-table-more').count()).toBe(0);
    expect(await page.getByTestId('pages-table-others').count()).toBe(0);

    // Search is a case-insensitive substring, answered by the server; it starts over at the top rows.
    await page.getByTestId('pages-table-search').fill('DOCS');
    await expectDashboard(page, 'daily', range, { pageSearch: 'DOCS' });
    const docs = await readDashboard(page);
    expect(docs.pagesCount).toBeGreaterThan(FIRST_ROWS);
    expect(docs.pages.every(([key]) => key.includes('docs'))).toBe(true);
    await page.getByTestId('pages-table-more').click();
    await expectDashboard(page, 'daily', range, { pageSearch: 'DOCS', pageRows: FIRST_ROWS + MORE_ROWS });
    await page.getByTestId('pages-table-search').fill('no such page');
    await expectDashboard(page, 'daily', range, { pageSearch: 'no such page' });
    await page.getByTestId('pages-table-no-match').waitFor();
    await page.getByTestId('pages-table-search').fill('');
    await expectDashboard(page, 'daily', range);

    // Regions: "u" finds US and unknown, not GB or DE.
    await page.getByTestId('regions-table-search').fill('u');
    await expectDashboard(page, 'daily', range, { regionSearch: 'u' });
    expect((await readDashboard(page)).regions.map(([code]) => code).sort()).toEqual(['US', 'unknown']);

    // Selecting a row filters by it; the table of the other key follows.
    await page.locator('[data-testid="regions-table"] tr[data-region="US"] button').click();
    await expectDashboard(page, 'daily', range, { region: 'US', regionSearch: 'u' });

    expect(traffic.urls.filter((url) => !STATS_API.test(url))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('CSV downloads hold every row of the tables (streamed by the server) and what the chart shows', async () => {
    const context = await newVisitorContext(browser, { acceptDownloads: true });
    const { page, errors } = await openDashboard(context);
    const range = preset('30d');
    await expectDashboard(page, 'daily', range);
    const shown = await readDashboard(page);

    const download = async (testId: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
      const path = await file.path();
      return { name: file.suggestedFilename(), rows: parseCsv(readFileSync(path, 'utf8')) };
    };
    const dates = `${isoDate(range.start)}_${isoDate(range.end - DAY_MS)}`;

    // The table shows ten pages; the file holds all of them.
    const pages = await download('csv-export');
    expect(pages.name).toMatch(/pages.*\.csv$/);
    expect(pages.rows).toEqual(expectedCsv(sent, 'pageName', range));
    expect(pages.rows.length - 1).toBeGreaterThan(shown.pages.length);
    expect(pages.rows.slice(1, shown.pages.length + 1)).toEqual(shown.pages.map(([key, views]) => [key, String(views)]));

    const regions = await download('csv-export-regions');
    expect(regions.name).toMatch(/regions.*\.csv$/);
    expect(regions.rows).toEqual(expectedCsv(sent, 'region', range));

    // With a search, the file holds the matching rows only.
    await page.getByTestId('pages-table-search').fill('blog');
    await expectDashboard(page, 'daily', range, { pageSearch: 'blog' });
    const blog = await download('csv-export');
    expect(blog.rows).toEqual(expectedCsv(sent, 'pageName', range, 'blog'));

    const chart = await download('csv-export-chart');
    expect(chart.name).toBe(`page-stats-views-daily-${dates}.csv`);
    expect(chart.rows).toEqual([['periodStart', 'views'], ...shown.chart!.starts.map((start, i) => [start, String(shown.chart!.values[i])])]);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('the URL holds the filters: reload restores them, Back returns to the previous ones', async () => {
    const context = await newVisitorContext(browser);
    const { page, errors } = await openDashboard(context);
    const search = () => new URL(page.url()).search;
    const expectControls = async (range: string, granularity: Granularity, region: string) => {
      await expect.poll(() => page.getByTestId('range-preset').inputValue(), POLL).toBe(range);
      await expect.poll(() => page.getByTestId(`granularity-${granularity}`).getAttribute('aria-pressed'), POLL).toBe('true');
      await expect.poll(() => page.getByTestId('region-filter').inputValue(), POLL).toBe(region);
    };

    await expectDashboard(page, 'daily', preset('30d'));
    await page.getByTestId('range-preset').selectOption('7d');
    await expect.poll(search).toBe('?range=7d');
    await page.getByTestId('granularity-weekly').click();
    await expect.poll(search).toBe('?range=7d&granularity=weekly');
    await page.getByTestId('region-filter').selectOption('DE');
    await expect.poll(search).toBe('?range=7d&granularity=weekly&region=DE');
    await expectDashboard(page, 'weekly', preset('7d'), { region: 'DE' });

    await page.reload();
    await expectControls('7d', 'weekly', 'DE');
    await expectDashboard(page, 'weekly', preset('7d'), { region: 'DE' });

    await page.goBack();
    await expect.poll(search).toBe('?range=7d&granularity=weekly');
    await expectControls('7d', 'weekly', '');
    await expectDashboard(page, 'weekly', preset('7d'));
    await page.goBack();
    await expect.poll(search).toBe('?range=7d');
    await expectControls('7d', 'daily', '');
    await expectDashboard(page, 'daily', preset('7d'));
    await page.goForward();
    await expectControls('7d', 'weekly', '');
    await expectDashboard(page, 'weekly', preset('7d'));

    // Selecting a page row filters to that page, in the URL too; Back clears it.
    await page.locator('[data-testid="pages-table"] tr[data-page="/pricing"] button').click();
    await expect.poll(search).toBe('?range=7d&granularity=weekly&page=%2Fpricing');
    await expectDashboard(page, 'weekly', preset('7d'), { page: '/pricing' });
    await expect.poll(() => page.getByTestId('page-filter').textContent(), POLL).toContain('/pricing');
    await page.goBack();
    await expectDashboard(page, 'weekly', preset('7d'));
    expect(await page.getByTestId('page-filter').count()).toBe(0);
    // The chip clears the page filter too (a new history entry).
    await page.locator('[data-testid="pages-table"] tr[data-page="/blog/ünïcødé"] button').click();
    await expectDashboard(page, 'weekly', preset('7d'), { page: '/blog/ünïcødé' });
    await page.getByTestId('page-filter-clear').click();
    await expect.poll(search).toBe('?range=7d&granularity=weekly');
    await expectDashboard(page, 'weekly', preset('7d'));

    await page.getByTestId('logout').click();
    await page.getByTestId('login-password').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('looks right at desktop and phone width (screenshots in docs/)', async () => {
    mkdirSync(DOCS, { recursive: true });
    for (const [name, viewport, mobile] of [
      ['desktop', { width: 1280, height: 800 }, false],
      ['phone', { width: 375, height: 812 }, true],
    ] as const) {
      const context = await newVisitorContext(browser, { viewport, deviceScaleFactor: 1, isMobile: mobile, hasTouch: mobile });
      const { page, errors } = await openDashboard(context);
      await expectDashboard(page, 'daily', preset('30d'));
      // The live panel counts every view of the last 30 minutes, rolled up or not: the seven.
      await expect.poll(() => page.getByTestId('realtime-total').getAttribute('data-value'), POLL).toBe('7');
      const live = await page.evaluate(() => ({
        minutes: (document.querySelector('[data-testid="realtime-minutes"]')?.getAttribute('data-values') ?? '').split(',').map(Number),
        pages: [...document.querySelectorAll('[data-testid="realtime-pages"] tbody tr')].map((tr) => [
          tr.getAttribute('data-page'),
          Number(tr.querySelector('td[data-views]')?.getAttribute('data-views')),
        ]),
      }));
      expect(live.minutes.length).toBeGreaterThanOrEqual(30);
      expect(live.minutes.reduce((a, b) => a + b, 0)).toBe(7);
      expect(Object.fromEntries(live.pages)).toEqual({ '/': 2, '/pricing': 2, '/docs': 2, '/signup-complete': 1 });
      await page.locator('[data-testid="chart"] canvas').waitFor();
      // The heading takes focus on load for screen readers; a focus ring does not belong in docs.
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      // Phones cannot scroll sideways to reach a cut-off control.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
      // The desktop shot shows the whole page, tables included; the phone shot its first screen.
      await page.screenshot({ path: `${DOCS}dashboard-${name}.png`, fullPage: !mobile, animations: 'disabled', caret: 'hide' });
      expect(errors).toEqual([]);
      await context.close();
    }
  });
});
