// JSON pages of the raw row endpoint larger than one read of the store: the page is written as
// it is read, and must still hold every row once, with the cursor of its last row.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, ROLLUP_SESSION } from '../../src/adapters/postgres/pg.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import { rowRoutes } from '../../src/services/admin-api/row-routes.js';
import { createTestDatabase } from '../helpers/postgres.js';

const DAY = Date.parse('2026-03-02T00:00:00Z');
const REGIONS = ['AU', 'BR', 'DE', 'FR', 'IN', 'JP', 'NG', 'US'];
const PAGES = Array.from({ length: 1_500 }, (_, i) => `/p/${String(i).padStart(4, '0')}`);
const ROWS = REGIONS.length * PAGES.length; // 12,000: more than two reads of 5,000
const RANGE = 'startTime=2026-03-02&endTime=2026-03-02';

type Row = { periodStart: string; region: string; pageName: string; views: number };

describe('region-daily JSON pages read in pieces', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: SqlRollupStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    database = await createTestDatabase('row_pages');
    store = new SqlRollupStore(openPostgres(database.url, { settings: ROLLUP_SESSION }));
    await store.migrate();
    await store.replaceWindow({
      start: DAY,
      end: DAY + 86_400_000,
      timeZone: 'UTC',
      weekStart: 1,
      daily: REGIONS.flatMap((region, r) => PAGES.map((pageName, p) => ({ dayStart: DAY, region, pageName, views: 1 + ((r * 7 + p) % 13) }))),
      bots: [],
    });
    app = Fastify();
    await app.register(rowRoutes, { rollups: store, now: () => DAY + 86_400_000, timezone: 'UTC' });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await database?.drop();
  });

  const get = async (query: string) => {
    const res = await app.inject({ method: 'GET', url: `/aggregated-data/region-daily?${RANGE}&${query}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return res.json() as { granularity: string; timezone: string; startTime: string; endTime: string; rows: Row[]; nextCursor: string | null };
  };

  it('the rollup store connects without JIT or parallel workers', async () => {
    const db = openPostgres(database.url, { settings: ROLLUP_SESSION });
    try {
      expect((await db.query<{ jit: string }>('SHOW jit')).rows[0]?.jit).toBe('off');
      expect(
        (await db.query<{ max_parallel_workers_per_gather: string }>('SHOW max_parallel_workers_per_gather')).rows[0]?.max_parallel_workers_per_gather,
      ).toBe('0');
    } finally {
      await db.close();
    }
  });

  it('one page of every row equals the NDJSON stream, with the same head and nextCursor null', async () => {
    const whole = await get('limit=100000');
    expect(Object.keys(whole)).toEqual(['granularity', 'timezone', 'startTime', 'endTime', 'rows', 'nextCursor']);
    expect(whole).toMatchObject({
      granularity: 'daily',
      timezone: 'UTC',
      startTime: '2026-03-02T00:00:00.000Z',
      endTime: '2026-03-03T00:00:00.000Z',
      nextCursor: null,
    });
    expect(whole.rows).toHaveLength(ROWS);
    const ndjson = await app.inject({ method: 'GET', url: `/aggregated-data/region-daily?${RANGE}&format=ndjson` });
    expect(whole.rows).toEqual(
      ndjson.body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Row),
    );
    expect(whole.rows.reduce((n, r) => n + r.views, 0)).toBe(REGIONS.flatMap((_, r) => PAGES.map((_, p) => 1 + ((r * 7 + p) % 13))).reduce((a, b) => a + b, 0));
    // A page that ends exactly at the last row has no next page.
    expect((await get(`limit=${ROWS}`)).nextCursor).toBeNull();
  });

  it.each([5_000, 5_001, 7_000, ROWS - 1])('pages of %i rows hold every row exactly once, in order', async (limit) => {
    const whole = (await get('limit=100000')).rows;
    const paged: Row[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(`limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(page.rows.length).toBe(Math.min(limit, ROWS - paged.length));
      paged.push(...page.rows);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(Math.ceil(ROWS / limit));
    expect(paged).toEqual(whole);
  });

  it('a filtered page past the last row is empty', async () => {
    const page = await get('region=US&pageName=%2Fp%2F0001');
    expect(page).toMatchObject({ region: 'US', pageName: '/p/0001', nextCursor: null });
    expect(page.rows).toEqual([{ periodStart: '2026-03-02T00:00:00.000Z', region: 'US', pageName: '/p/0001', views: 1 + ((7 * 7 + 1) % 13) }]);
    const none = await get('region=XX');
    expect(none.rows).toEqual([]);
    expect(none.nextCursor).toBeNull();
  });
});
