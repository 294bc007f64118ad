import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request: arbitrary bytes and headers that fetch would refuse or normalise. */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const now = Date.now();
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const json = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
const valid = { pageName: '/fine', region: 'DE', timestamp: now };

const notAString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 2 }));
const badRegion = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => !/^[A-Za-z0-9_-]{1,32}$/.test(s)),
  fc.constant(''),
  notAString,
);
const badTimestamp = fc.oneof(
  fc.integer({ min: now + 6 * 60_000, max: 8.64e15 }),
  fc.integer({ min: -8.64e15, max: now - 3 * 86_400_000 }),
  fc.string({ maxLength: 30 }).filter((s) => !/^\d+$/.test(s.trim()) && Number.isNaN(Date.parse(s))),
  fc.boolean(),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const badPageName = fc.oneof(
  notAString,
  fc.constant(''),
  fc.integer({ min: 513, max: 30_000 }).map((n) => `/${'x'.repeat(n)}`),
  // the query string and fragment are cut before validation: keep the NUL in the path
  fc.tuple(fc.string(), fc.string()).map(([a, b]) => `/${a.replace(/[?#]/g, '')}\u0000${b}`),
  // only a query string: nothing left of the path (a `#/…` fragment would be a hash route)
  fc.string().map((s) => `?${s.replace(/#/g, '')}`),
);

/** Bodies that are never a valid request: each breaks at least one rule. */
const hostileBody: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.record({ pageName: badPageName }).map(json),
  fc.record({ pageName: fc.constant('/x'), region: badRegion }).map(json),
  fc.record({ pageName: fc.constant('/x'), timestamp: badTimestamp }).map(json),
  fc.record({ region: fc.constant('DE') }).map(json),
  fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)).map(json),
  fc.integer({ min: 101, max: 300 }).map((n) => json(Array.from({ length: n }, () => valid))),
  fc.tuple(fc.integer({ min: 0, max: 99 }), badPageName).map(([n, p]) => json([...Array.from({ length: n }, () => valid), { pageName: p }])),
  fc.integer({ min: 1, max: 20_000 }).map((d) => utf8('['.repeat(d) + ']'.repeat(d))),
  fc.integer({ min: 1, max: 3_000 }).map((d) => utf8(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`)),
  fc
    .constantFrom(
      '{"pageName":"/x","__proto__":{"isAdmin":true}}',
      '{"pageName":"/x","constructor":{"prototype":{"x":1}}}',
      '[{"__proto__":null,"pageName":"/x"}]',
    )
    .map(utf8),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => new Uint8Array([...utf8('{"pageName":"/'), ...bytes, 0xff, 0xfe, ...utf8('"}')])),
  fc
    .string({ unit: 'binary', maxLength: 300 })
    .filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    })
    .map(utf8),
  fc.integer({ min: 70_000, max: 200_000 }).map((n) => utf8(`{"pageName":"/${'y'.repeat(n)}"}`)),
);

const contentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'text/plain;charset=UTF-8',
  'APPLICATION/JSON; charset=utf-8',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/json, text/plain',
);
const extraHeaders = fc.record(
  {
    'x-forwarded-for': fc.oneof(
      fc.string({ maxLength: 100 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
      fc.constant('999.1.1.1, ::zz'),
    ),
    'cf-ipcountry': fc.string({ maxLength: 10 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    'user-agent': fc.oneof(
      fc.constant(BROWSER_UA),
      fc.string({ maxLength: 400 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    ),
    'content-encoding': fc.constantFrom('gzip', 'br', 'identity'),
    origin: fc.constantFrom('null', 'https://evil.example', 'http://localhost'),
  },
  { requiredKeys: [] },
);

describe('property-based fuzz of the public and admin endpoints', () => {
  let t: TestApp;
  const statuses = new Map<number, number>();
  beforeAll(async () => {
    // two trusted hops: the garbage X-Forwarded-For entries below become the client address
    t = await startEmbeddedApp({ REGION_HEADER: 'cf-ipcountry', TRUST_PROXY: '2' });
  });
  afterAll(async () => await t?.close());

  it('POST /page-view: thousands of malformed and hostile inputs get only documented 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, contentType, extraHeaders, async (body, type, headers) => {
        const res = await send(t.url, 'POST', '/page-view', { ...headers, 'content-type': type }, body);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect([400, 413, 415]).toContain(res.status);
        const parsed = JSON.parse(res.body) as { error: unknown };
        expect(typeof parsed.error).toBe('string');
      }),
      { numRuns: 2_000 },
    );
  });

  it('admin query endpoints: arbitrary query strings get 200 or a 400 with a message, never a 5xx', async () => {
    const key = fc.oneof(
      fc.constantFrom(
        'region',
        'pageName',
        'startTime',
        'endTime',
        'minutes',
        'from',
        'to',
        'by',
        'interval',
        'limit',
        'offset',
        'search',
        'cursor',
        'format',
        'rows',
      ),
      fc.string({ maxLength: 8 }),
    );
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.integer().map(String),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
    const path = fc.constantFrom(
      '/aggregated-data/region-daily',
      '/aggregated-data/region-weekly',
      '/aggregated-data/region-monthly',
      '/aggregated-data/bots',
      '/aggregated-data/realtime',
      '/aggregated-data/regions',
      '/aggregated-data/summary',
      '/aggregated-data/timeseries',
      '/aggregated-data/breakdown',
    );
    await fc.assert(
      fc.asyncProperty(path, fc.array(fc.tuple(key, value), { maxLength: 5 }), async (p, params) => {
        const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const res = await send(t.url, 'GET', `${p}?${query}`, { authorization: `Bearer ${ADMIN_TOKEN}` });
        expect([200, 400]).toContain(res.status);
        if (res.status === 400) expect(typeof (JSON.parse(res.body) as { error: unknown }).error).toBe('string');
      }),
      { numRuns: 1_000 },
    );
  });

  it('stored nothing', async () => {
    // A good event sent after every fuzzed request: once it is counted, processing has passed
    // everything before it in the log, and it must be all there is.
    const good = await send(t.url, 'POST', '/page-view', { 'content-type': 'application/json', 'user-agent': BROWSER_UA }, json({ pageName: '/after-fuzz' }));
    expect(good.status).toBe(202);
    await expect.poll(async () => (await t.get('/aggregated-data/realtime?minutes=1440')).body.total, { timeout: 60_000 }).toBe(1);
    expect((await t.post('/admin/consolidate')).status).toBe(200);
    expect((await t.get('/aggregated-data/realtime?minutes=1440')).body.total).toBe(1);
    for (const g of ['daily', 'weekly', 'monthly']) {
      const rows = (await t.get(`/aggregated-data/region-${g}?startTime=${now - 40 * 86_400_000}&endTime=${now + 86_400_000}`)).body.rows;
      expect(rows.map((r: { pageName: string; views: number }) => [r.pageName, r.views])).toEqual([['/after-fuzz', 1]]);
    }
    expect((await t.get(`/aggregated-data/bots?startTime=${now - 40 * 86_400_000}`)).body.total).toBe(0);
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
  });
});
