// Helpers for the browser end-to-end test: Chromium, a cross-origin test site, the dashboard's
// test ids, and expected numbers computed from the events the test sent (never from the app).
import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Request } from 'playwright-core';
import { BROWSER_UA } from '../helpers/embedded-app.js';
import { freePort } from '../tooling/free-port.js';

export const DAY_MS = 86_400_000;

// No network outside loopback here: keep Chromium from phoning home or updating itself.
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A context that looks like a visitor's browser. Headless Chromium's own user agent says
 * "HeadlessChrome", which isbot (rightly) counts as a bot: pass `headlessUserAgent` for that.
 * The browser runs in UTC like the server's REPORT_TIMEZONE, so "last 7 days" means the same days.
 */
export function newVisitorContext(browser: Browser, options: BrowserContextOptions & { headlessUserAgent?: boolean } = {}): Promise<BrowserContext> {
  const { headlessUserAgent, ...rest } = options;
  return browser.newContext({
    ...(headlessUserAgent ? {} : { userAgent: BROWSER_UA }),
    timezoneId: 'UTC',
    locale: 'en-US',
    viewport: { width: 1280, height: 800 },
    ...rest,
  });
}

export interface TestSite {
  url: string;
  close(): Promise<void>;
}

/**
 * A single-page app on its own port (another origin than page-stats, as a real site is), with
 * the tracker loaded from page-stats. Every path serves the same page so reloads work. Links
 * navigate with pushState; the "tab" button rewrites the query with replaceState (same path).
 */
export async function startTestSite(appUrl: string): Promise<TestSite> {
  const html = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Test site</title>
  <script defer src="${appUrl}/tracker.js" data-allow-localhost="true"></script>
</head>
<body>
  <nav>
    <a href="/" data-spa>Home</a>
    <a href="/pricing" data-spa>Pricing</a>
    <a href="/docs" data-spa>Docs</a>
    <button id="tab" type="button">Next tab</button>
  </nav>
  <main id="view"></main>
  <script>
    const view = document.getElementById('view');
    const render = () => { view.textContent = 'Page ' + location.pathname + location.search; };
    document.addEventListener('click', (event) => {
      const link = event.target.closest('a[data-spa]');
      if (!link) return;
      event.preventDefault();
      history.pushState({}, '', link.getAttribute('href'));
      render();
    });
    let tab = 0;
    document.getElementById('tab').addEventListener('click', () => {
      history.replaceState({}, '', location.pathname + '?tab=' + (++tab));
      render();
    });
    window.addEventListener('popstate', render);
    render();
  </script>
</body>
</html>`;
  const server: Server = createServer((req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Console errors and uncaught exceptions of a page, for "the happy path logs no errors". */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/**
 * Bodies of the page-view requests the browser sent, in order, each listed once the server has
 * answered it (so closing the context afterwards cannot cancel one in flight). The requests go
 * to the server unchanged; the route is there because Playwright only reports a beacon's Blob
 * body for requests it intercepts.
 */
export async function collectBeacons(context: BrowserContext): Promise<string[]> {
  const bodies = new Map<Request, string>();
  const answered: string[] = [];
  await context.route(
    (url) => url.pathname === '/page-view',
    async (route) => {
      bodies.set(route.request(), route.request().postData() ?? '');
      await route.continue();
    },
  );
  context.on('requestfinished', (request) => {
    const body = bodies.get(request);
    if (body !== undefined) answered.push(body);
  });
  context.on('requestfailed', (request) => {
    if (bodies.has(request)) answered.push(`failed: ${request.failure()?.errorText}`);
  });
  return answered;
}

export async function signIn(page: Page, appUrl: string, password: string, path = '/'): Promise<void> {
  await page.goto(appUrl + path);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('logout').waitFor();
}

/** What the dashboard shows, read from its test ids and data attributes. */
export interface DashboardReading {
  total: number | null;
  /** Distinct pages in the summary, and the top page under it. */
  pageCount: number | null;
  topPage: string | null;
  /** The rows a table shows, its count of keys ("24 pages") and its "Others" line (null: none). */
  pages: [string, number][];
  pagesCount: number | null;
  pagesOthers: number | null;
  regions: [string, number][];
  regionsCount: number | null;
  regionsOthers: number | null;
  chart: { granularity: string; starts: string[]; values: number[] } | null;
}

export async function readDashboard(page: Page): Promise<DashboardReading> {
  return await page.evaluate(() => {
    const number = (value: string | null | undefined) => (value ? Number(value) : null);
    const byTestId = (testId: string) => document.querySelector(`[data-testid="${testId}"]`);
    const rows = (testId: string, key: string): [string, number][] =>
      [...document.querySelectorAll(`[data-testid="${testId}"] tbody tr`)].map((tr) => [
        tr.getAttribute(key) ?? '',
        Number(tr.querySelector('td[data-views]')?.getAttribute('data-views')),
      ]);
    const chart = byTestId('chart');
    const list = (name: string) => (chart?.getAttribute(name) ?? '').split(',').filter((v) => v !== '');
    return {
      total: number(byTestId('total-views')?.getAttribute('data-value')),
      pageCount: number(byTestId('page-count')?.getAttribute('data-value')),
      topPage: byTestId('top-page')?.getAttribute('data-value') || null,
      pages: rows('pages-table', 'data-page'),
      pagesCount: number(byTestId('pages-table-count')?.getAttribute('data-value')),
      pagesOthers: number(byTestId('pages-table-others')?.getAttribute('data-views')),
      regions: rows('regions-table', 'data-region'),
      regionsCount: number(byTestId('regions-table-count')?.getAttribute('data-value')),
      regionsOthers: number(byTestId('regions-table-others')?.getAttribute('data-views')),
      chart: chart && {
        granularity: chart.getAttribute('data-granularity') ?? '',
        starts: list('data-period-starts'),
        values: list('data-values').map(Number),
      },
    };
  });
}

/**
 * The dashboard's traffic to the admin API: every request path and query, and the bytes of the
 * answers. Bodies are read as responses arrive; `settled()` waits for the reads still running.
 */
export function watchApiTraffic(context: BrowserContext): { urls: string[]; bytes: () => number; settled: () => Promise<void> } {
  const urls: string[] = [];
  const reads: Promise<void>[] = [];
  let bytes = 0;
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/aggregated-data/')) urls.push(url.pathname + url.search);
  });
  context.on('response', (response) => {
    if (!new URL(response.url()).pathname.startsWith('/aggregated-data/')) return;
    reads.push(
      response.body().then(
        (body) => {
          bytes += body.length;
        },
        // A download (CSV export) hands its body to the file, not to the page.
        () => undefined,
      ),
    );
  });
  return { urls, bytes: () => bytes, settled: async () => void (await Promise.all(reads)) };
}

/** Minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF), dropping the UTF-8 BOM. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const input = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

// ---- expected numbers, from the events the test sent ----

export interface SentEvent {
  timestamp: number;
  region: string;
  pageName: string;
}

export const utcMidnight = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const addUtcMonths = (ms: number, months: number): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
};

export type Granularity = 'daily' | 'weekly' | 'monthly';
export interface Range {
  start: number;
  end: number;
}

/** The dashboard's presets for a browser in UTC: [start, end) between midnights, today included. */
export function presetRange(preset: '7d' | '30d' | '12m', now: number): Range {
  const today = utcMidnight(now);
  const end = today + DAY_MS;
  if (preset === '7d') return { start: today - 6 * DAY_MS, end };
  if (preset === '30d') return { start: today - 29 * DAY_MS, end };
  return { start: addUtcMonths(today, -11), end };
}

/** UTC periods (ISO weeks from Monday) overlapping the range, as [start, end) pairs. */
export function periodsOverlapping(granularity: Granularity, range: Range): Range[] {
  let start = utcMidnight(range.start);
  if (granularity === 'weekly') start -= ((new Date(start).getUTCDay() + 6) % 7) * DAY_MS;
  if (granularity === 'monthly') start = addUtcMonths(start, 0);
  const periods: Range[] = [];
  while (start < range.end) {
    const end = granularity === 'daily' ? start + DAY_MS : granularity === 'weekly' ? start + 7 * DAY_MS : addUtcMonths(start, 1);
    periods.push({ start, end });
    start = end;
  }
  return periods;
}

/** Views per key, most first, ties in code-point order (as the server sorts). */
export function ranked(events: readonly SentEvent[], key: 'pageName' | 'region'): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e[key], (counts.get(e[key]) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The tables' first rows, and how many each "Show more" adds (as the dashboard pages them). */
export const FIRST_ROWS = 10;
export const MORE_ROWS = 50;

export interface Shown {
  region?: string;
  page?: string;
  /** Rows the pages/regions table shows (after "Show more"); FIRST_ROWS unless given. */
  pageRows?: number;
  regionRows?: number;
  /** Text typed into the table's search box (case-insensitive substring of the key). */
  pageSearch?: string;
  regionSearch?: string;
}

const contains = (key: string, search: string | undefined) => search === undefined || key.toLowerCase().includes(search.toLowerCase());

/** What a table must show: its first `rows` rows, the number of matching keys and the rest's views. */
function table(events: readonly SentEvent[], key: 'pageName' | 'region', rows: number, search: string | undefined) {
  const all = ranked(events, key).filter(([k]) => contains(k, search));
  const shown = all.slice(0, rows);
  const others = all.reduce((n, [, views]) => n + views, 0) - shown.reduce((n, [, views]) => n + views, 0);
  return { rows: shown, count: all.length, others: others > 0 ? others : null };
}

/**
 * What the dashboard must show for these filters. Totals and tables count the chosen days; the
 * chart has one bar per period overlapping them, and a week or month cut by the range counts only
 * its days inside the range (so the bars add up to the total).
 */
export function expectedDashboard(events: readonly SentEvent[], granularity: Granularity, range: Range, shown: Shown = {}): DashboardReading {
  const mine = events.filter((e) => (shown.region === undefined || e.region === shown.region) && (shown.page === undefined || e.pageName === shown.page));
  const inRange = mine.filter((e) => e.timestamp >= range.start && e.timestamp < range.end);
  const periods = periodsOverlapping(granularity, range);
  const pages = table(inRange, 'pageName', shown.pageRows ?? FIRST_ROWS, shown.pageSearch);
  const regions = table(inRange, 'region', shown.regionRows ?? FIRST_ROWS, shown.regionSearch);
  const all = ranked(inRange, 'pageName');
  // The dashboard leaves the tables out when the range has no views.
  const tables = inRange.length > 0;
  return {
    total: inRange.length,
    pageCount: all.length,
    topPage: all[0]?.[0] ?? null,
    pages: tables ? pages.rows : [],
    pagesCount: tables ? pages.count : null,
    pagesOthers: tables ? pages.others : null,
    regions: tables ? regions.rows : [],
    regionsCount: tables ? regions.count : null,
    regionsOthers: tables ? regions.others : null,
    chart: {
      granularity,
      starts: periods.map((p) => new Date(p.start).toISOString()),
      values: periods.map((p) => {
        const from = Math.max(p.start, range.start);
        const to = Math.min(p.end, range.end);
        return mine.filter((e) => e.timestamp >= from && e.timestamp < to).length;
      }),
    },
  };
}

/** Every row of a table's CSV export: all matching keys, not only the rows on screen. */
export function expectedCsv(events: readonly SentEvent[], key: 'pageName' | 'region', range: Range, search?: string): string[][] {
  const inRange = events.filter((e) => e.timestamp >= range.start && e.timestamp < range.end);
  const rows = ranked(inRange, key).filter(([k]) => contains(k, search));
  return [[key === 'pageName' ? 'page' : 'region', 'views'], ...rows.map(([k, views]) => [k, String(views)])];
}
