import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';

interface Case {
  name: string;
  body: string | Buffer;
  contentType?: string;
  status: number;
  message: RegExp;
}

const now = Date.now();
const ok = { pageName: '/ok', region: 'DE' };

const CASES: Case[] = [
  { name: 'malformed JSON', body: '{"pageName": "/a",', status: 400, message: /not valid JSON/ },
  { name: 'empty body', body: '', status: 400, message: /empty/ },
  { name: 'a JSON string', body: '"hello"', status: 400, message: /expected object/ },
  { name: 'null', body: 'null', status: 400, message: /expected object/ },
  { name: 'pageName missing', body: JSON.stringify({ region: 'DE' }), status: 400, message: /pageName/ },
  { name: 'pageName a number', body: JSON.stringify({ pageName: 5 }), status: 400, message: /pageName: expected string/ },
  { name: 'pageName empty', body: JSON.stringify({ pageName: '' }), status: 400, message: /pageName/ },
  { name: 'pageName too long', body: JSON.stringify({ pageName: `/${'a'.repeat(600)}` }), status: 400, message: /longer than 512/ },
  { name: 'pageName with NUL', body: JSON.stringify({ pageName: '/a\u0000b' }), status: 400, message: /control characters/ },
  { name: 'pageName with a lone surrogate', body: '{"pageName":"/a\\ud800"}', status: 400, message: /valid Unicode/ },
  {
    name: 'pageName with a right-to-left override',
    body: JSON.stringify({ pageName: '/invoice\u202Efdp.exe' }),
    status: 400,
    message: /bidi control or zero-width characters \(found U\+202E\)/,
  },
  {
    name: 'pageName with a zero-width space',
    body: JSON.stringify({ pageName: '/pri\u200Bcing' }),
    status: 400,
    message: /bidi control or zero-width characters \(found U\+200B\)/,
  },
  {
    name: 'pageName with credentials it cannot take apart',
    body: JSON.stringify({ pageName: '//user:secret@example.com/p' }),
    status: 400,
    message: /user name or password/,
  },
  { name: 'timestamp a boolean', body: JSON.stringify({ pageName: '/', timestamp: true }), status: 400, message: /timestamp/ },
  { name: 'timestamp not a date', body: JSON.stringify({ pageName: '/', timestamp: 'yesterday' }), status: 400, message: /timestamp/ },
  { name: 'timestamp in the future', body: JSON.stringify({ pageName: '/', timestamp: now + 10 * 60_000 }), status: 400, message: /future/ },
  { name: 'timestamp too old', body: JSON.stringify({ pageName: '/', timestamp: now - 3 * 86_400_000 }), status: 400, message: /late-arrival window/ },
  { name: 'region invalid', body: JSON.stringify({ pageName: '/', region: 'DE; DROP TABLE' }), status: 400, message: /region/ },
  { name: 'region too long', body: JSON.stringify({ pageName: '/', region: 'A'.repeat(33) }), status: 400, message: /region/ },
  { name: 'region a number', body: JSON.stringify({ pageName: '/', region: 49 }), status: 400, message: /region: expected string/ },
  { name: 'empty batch', body: '[]', status: 400, message: /empty batch/ },
  { name: 'a 101-event batch', body: JSON.stringify(Array.from({ length: 101 }, () => ok)), status: 400, message: /at most 100/ },
  {
    name: 'a batch with one bad event (nothing partial stored)',
    body: JSON.stringify([ok, ok, { pageName: 7 }]),
    status: 400,
    message: /\[2\]\.pageName/,
  },
  { name: '__proto__ key', body: '{"pageName":"/","__proto__":{"admin":true}}', status: 400, message: /not valid JSON/ },
  {
    name: 'invalid UTF-8',
    body: Buffer.from([0x7b, 0x22, 0x70, 0x61, 0x67, 0x65, 0x4e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    status: 400,
    message: /UTF-8/,
  },
  { name: 'oversized body', body: JSON.stringify({ pageName: `/${'x'.repeat(70_000)}` }), status: 413, message: /too large/ },
  { name: 'unsupported content type', body: '<pageName>/</pageName>', contentType: 'application/xml', status: 415, message: /content type/ },
];

describe('bad input gets the documented 4xx, a clear message, and stores nothing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startEmbeddedApp();
  });
  afterAll(async () => await t?.close());

  it.each(CASES)('POST /page-view: $name → $status', async (c) => {
    const res = await fetch(`${t.url}/page-view`, {
      method: 'POST',
      headers: { 'content-type': c.contentType ?? 'application/json', 'user-agent': BROWSER_UA },
      body: typeof c.body === 'string' ? c.body : new Uint8Array(c.body),
    });
    expect(res.status).toBe(c.status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = await res.json();
    expect(typeof body.error).toBe('string');
    expect([body.error, ...(body.details ?? [])].join(' ')).toMatch(c.message);
  });

  const queries: Array<[string, RegExp]> = [
    ['/aggregated-data/region-daily?startTime=abc', /startTime/],
    ['/aggregated-data/region-weekly?startTime=2026-01-02&endTime=2026-01-01', /before endTime/],
    ['/aggregated-data/region-monthly?endTime=not-a-date', /endTime/],
    ['/aggregated-data/region-daily?region=%3Cscript%3E', /region/],
    ['/aggregated-data/region-daily?start=2026-01-01', /unknown parameter/],
    ['/aggregated-data/region-daily?region=DE&region=FR', /once/],
    ['/aggregated-data/region-daily?startTime=100000000000&endTime=764070400000', /20 years/],
    ['/aggregated-data/region-daily?startTime=0', /looks like seconds/],
    ['/aggregated-data/realtime?minutes=0', /minutes/],
    ['/admin/consolidate?from=2026-13-01', /from/],
    ['/admin/consolidate?from=0000-01-01&to=0000-01-02', /from: must be a day in the years 1970 to 9998/],
    ['/admin/consolidate?from=9999-12-30&to=9999-12-31', /to: must be a day in the years 1970 to 9998/],
  ];
  it.each(queries)('%s → 400', async (path, message) => {
    const method = path.startsWith('/admin/') ? 'POST' : 'GET';
    const res = await fetch(t.url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect([body.error, ...body.details].join(' ')).toMatch(message);
  });

  it.each(['region-daily', 'region-weekly', 'region-monthly', 'regions', 'bots', 'realtime', 'summary', 'timeseries', 'breakdown?by=page'])(
    '/aggregated-data/%s answers 401 without credentials or with a wrong token',
    async (name) => {
      const none = await fetch(`${t.url}/aggregated-data/${name}`);
      expect(none.status).toBe(401);
      expect((await none.json()).error).toMatch(/authentication required/);
      const wrong = await fetch(`${t.url}/aggregated-data/${name}`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
      expect(wrong.status).toBe(401);
    },
  );

  it('POST /admin/consolidate and /metrics answer 401 without credentials', async () => {
    expect((await fetch(`${t.url}/admin/consolidate`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
  });

  it('stored nothing', async () => {
    // Every bad request above has been answered. A good event goes through the same pipeline
    // behind them; once it is counted, processing has passed everything before it in the log.
    const good = await fetch(`${t.url}/page-view`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': BROWSER_UA },
      body: JSON.stringify(ok),
    });
    expect(good.status).toBe(202);
    await expect.poll(async () => (await t.get('/aggregated-data/realtime')).body.total, { timeout: 60_000 }).toBe(1);
    const run = await t.post('/admin/consolidate');
    expect(run.status).toBe(200);
    const start = now - 30 * 86_400_000;
    for (const g of ['daily', 'weekly', 'monthly']) {
      const res = await t.get(`/aggregated-data/region-${g}?startTime=${start}&endTime=${now + 86_400_000}`);
      expect(res.body.rows.map((r: { pageName: string; views: number }) => [r.pageName, r.views])).toEqual([[ok.pageName, 1]]);
    }
    expect((await t.get('/aggregated-data/realtime')).body.total).toBe(1);
    expect((await t.get(`/aggregated-data/bots?startTime=${start}`)).body.total).toBe(0);
  });
});

describe('rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startEmbeddedApp({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => await t?.close());

  it('answers 429 with a JSON error past RATE_LIMIT_PER_MINUTE', async () => {
    const statuses: number[] = [];
    let last: any;
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${t.url}/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': BROWSER_UA },
        body: JSON.stringify(ok),
      });
      statuses.push(res.status);
      last = await res.json();
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect(last.error).toMatch(/rate limit/);
  });
});
