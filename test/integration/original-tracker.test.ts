import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';

/**
 * Sites that embed the original design's tracker post `{pageName, region, timestamp}` to
 * `/api/page-view` (its nginx stripped `/api/`; ours does too, see the container smoke test).
 * The app takes that path as well, as the same route: same validation, rate limit and CORS.
 */
describe("the original design's tracker path, without nginx", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startEmbeddedApp({ ALLOWED_ORIGINS: 'https://site.example', RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => await app?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': BROWSER_UA, ...headers },
      body: JSON.stringify(body),
    });

  it('counts {pageName, region, timestamp} posted to /api/page-view, page names as sent', async () => {
    const res = await post('/api/page-view', { pageName: 'HomePage', region: 'us', timestamp: Date.now() - 1_000 });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1 });
    let rows: Array<{ region: string; pageName: string; views: number }> = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      expect((await app.post('/admin/consolidate')).status).toBe(200);
      rows = (await app.get(`/aggregated-data/region-daily?startTime=${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}`)).body.rows;
    }
    expect(rows.map(({ region, pageName, views }) => ({ region, pageName, views }))).toEqual([{ region: 'US', pageName: 'HomePage', views: 1 }]);
  });

  it('is the same route as /page-view: CORS for the site, validation, and one rate limit for both paths', async () => {
    const preflight = await fetch(`${app.url}/api/page-view`, {
      method: 'OPTIONS',
      headers: { origin: 'https://site.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://site.example');
    const bad = await post('/api/page-view?x=1', { region: 'US' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).details.join(' ')).toMatch(/pageName/);
    // the limit of 3 a minute: the first test's request, the refused one and this one, whatever the path
    expect((await post('/page-view', { pageName: '/a' })).status).toBe(202);
    expect((await post('/api/page-view', { pageName: '/b' })).status).toBe(429);
  });
});
