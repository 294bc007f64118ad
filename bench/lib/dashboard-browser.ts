import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, newVisitorContext, readDashboard, signIn } from '../../test/e2e/browser-helpers.js';
import { median, now } from './stats.js';

export interface RenderRun {
  /** from navigation start until the summary, every chart point and both tables show numbers */
  ms: number;
  /** bytes of every /aggregated-data/ response body of that load (the dashboard's API traffic) */
  apiBytes: number;
  apiRequests: string[];
  /** the total the dashboard shows, to check against the API */
  total: number | null;
}

export interface RenderResult {
  runs: RenderRun[];
  medianMs: number;
  maxMs: number;
  medianBytes: number;
}

/** Counts the API bodies of one page load; `settled()` waits for the reads still running. */
function watchApi(context: BrowserContext): { requests: string[]; bytes: () => number; settled: () => Promise<void>; stop: () => void } {
  const requests: string[] = [];
  const reads: Array<Promise<void>> = [];
  let bytes = 0;
  const onResponse = (response: import('playwright-core').Response): void => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/aggregated-data/')) return;
    requests.push(url.pathname + url.search);
    reads.push(
      response.body().then(
        (body) => void (bytes += body.length),
        () => undefined,
      ),
    );
  };
  context.on('response', onResponse);
  return {
    requests,
    bytes: () => bytes,
    settled: async () => void (await Promise.all(reads)),
    stop: () => context.off('response', onResponse),
  };
}

/** Waits until the summary total, all `points` chart values and both tables' rows are on screen. */
async function shown(page: Page, points: number): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const byTestId = (id: string) => document.querySelector(`[data-testid="${id}"]`);
      const total = byTestId('total-views')?.getAttribute('data-value');
      const values = (byTestId('chart')?.getAttribute('data-values') ?? '').split(',').filter((v) => v !== '');
      const rows = (id: string) => document.querySelectorAll(`[data-testid="${id}"] tbody tr td[data-views]`).length;
      return Boolean(total) && values.length === expected && rows('pages-table') > 0 && rows('regions-table') > 0;
    },
    points,
    { timeout: 60_000, polling: 'raf' },
  );
}

/**
 * First render of a dashboard view in headless Chromium: signed in once (the session cookie),
 * then the view's URL opened `loads` times in a fresh tab, each timed from navigation start until
 * the numbers are on screen, with the bytes of the API answers it needed.
 */
export async function measureRender(appUrl: string, password: string, path: string, points: number, loads: number): Promise<RenderResult> {
  const browser = await launchChromium();
  try {
    const context = await newVisitorContext(browser);
    // tsx compiles this file (and the test helpers) keeping function names through an `__name`
    // helper, which then appears inside functions sent to the page: give the page one.
    await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
    const login = await context.newPage();
    await signIn(login, appUrl, password, '/');
    await login.close();
    const runs: RenderRun[] = [];
    for (let i = 0; i < loads; i++) {
      const page = await context.newPage();
      const api = watchApi(context);
      const t0 = now();
      await page.goto(appUrl + path);
      await shown(page, points);
      const ms = now() - t0;
      const reading = await readDashboard(page);
      // The realtime panel and the region list may still be loading: their bytes count too.
      await page.waitForLoadState('networkidle');
      await api.settled();
      api.stop();
      runs.push({ ms, apiBytes: api.bytes(), apiRequests: [...api.requests], total: reading.total });
      await page.close();
    }
    const ms = runs.map((r) => r.ms);
    return { runs, medianMs: median(ms), maxMs: Math.max(...ms), medianBytes: median(runs.map((r) => r.apiBytes)) };
  } finally {
    await browser.close();
  }
}
