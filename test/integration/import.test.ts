// History brought in from files: events and daily counts import to exactly the counts an
// independent computation gives, across day, week and month edges in New York with Sunday weeks;
// the same content twice counts once; a bad line refuses the file and stores nothing; an export
// imports back into an empty instance to identical answers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';
import { generateEvents } from '../helpers/events.js';
import { apiCounts, expectedCounts, type Granularity, periodKey } from '../helpers/expected-counts.js';
import { runCli } from '../helpers/process.js';

const TZ = 'America/New_York';
const SUNDAY = 7;
const ENV = { REPORT_TIMEZONE: TZ, WEEK_START: 'sunday', CONSOLIDATE_SCHEDULE: '0 0 1 1 *' };
const RANGE = 'startTime=2024-01-01&endTime=2026-03-01';
const GRANULARITIES: Granularity[] = ['daily', 'weekly', 'monthly'];

/** RFC 4180, every cell quoted: written without the product's code. */
const csv = (rows: ReadonlyArray<ReadonlyArray<string | number>>): string =>
  `${rows.map((r) => r.map((c) => `"${String(c).replaceAll('"', '""')}"`).join(',')).join('\r\n')}\r\n`;

const add = (a: Map<string, number>, b: Map<string, number>): Map<string, number> => {
  const sum = new Map(a);
  for (const [k, v] of b) sum.set(k, (sum.get(k) ?? 0) + v);
  return sum;
};

async function upload(t: TestApp, body: string | Buffer, query = '', type = 'text/csv', token = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.url}/admin/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Every answer the API gives about the range: rows of each granularity, the summary and the series. */
async function answers(t: TestApp): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const g of GRANULARITIES) out[g] = (await t.get(`/aggregated-data/region-${g}?${RANGE}&limit=100000`)).body.rows;
  out.summary = (await t.get(`/aggregated-data/summary?${RANGE}`)).body;
  for (const i of ['day', 'week', 'month']) out[i] = (await t.get(`/aggregated-data/timeseries?interval=${i}&${RANGE}`)).body;
  out.pages = (await t.get(`/aggregated-data/breakdown?by=page&limit=1000&${RANGE}`)).body;
  return out;
}

describe('import and export (embedded, America/New_York, weeks from Sunday)', () => {
  let t: TestApp;
  const events = generateEvents(3_000, 17);
  // Daily counts of another sample, as another tool would export them: dates in New York.
  const dailySource = generateEvents(2_000, 23).map((e) => ({ ...e, region: e.region === 'unknown' ? 'NL' : e.region }));
  const dailyCounts = expectedCounts(dailySource, 'daily', TZ, SUNDAY);
  let eventsFile: string;
  let dailyFile: string;

  beforeAll(async () => {
    t = await startEmbeddedApp(ENV);
    eventsFile = csv([
      ['timestamp', 'region', 'pageName'],
      // epoch milliseconds and ISO-8601 both
      ...events.map((e, i) => [i % 2 === 0 ? e.timestamp : new Date(e.timestamp).toISOString(), e.region, e.pageName]),
    ]);
    dailyFile = csv([['date', 'region', 'pageName', 'views'], ...[...dailyCounts].map(([k, v]) => [...k.split('|'), v])]);
  });
  afterAll(async () => await t?.close());

  const expectCounts = async (expected: (g: Granularity) => Map<string, number>) => {
    for (const g of GRANULARITIES) {
      const rows = (await t.get(`/aggregated-data/region-${g}?${RANGE}&limit=100000`)).body.rows;
      expect(apiCounts(rows, TZ), g).toEqual(expected(g));
    }
  };
  const dailyExpected = (g: Granularity): Map<string, number> => {
    // The daily file's days rolled up by plain date arithmetic (noon of the date is inside it).
    const m = new Map<string, number>();
    for (const [k, v] of dailyCounts) {
      const [date, region, page] = k.split('|') as [string, string, string];
      const key = `${periodKey(Date.parse(`${date}T17:00:00Z`), g, TZ, SUNDAY)}|${region}|${page}`;
      m.set(key, (m.get(key) ?? 0) + v);
    }
    return m;
  };

  it('refuses without credentials, and a file of another shape with the columns it expects', async () => {
    expect((await upload(t, eventsFile, '', 'text/csv', 'wrong-token')).status).toBe(401);
    const other = await upload(t, 'visit_time,country,url\n2025-01-01,DE,/\n');
    expect(other.status).toBe(400);
    expect(other.body.error).toContain('unrecognised header');
    expect(other.body.details.join(' ')).toContain('timestamp,region,pageName');
    expect(other.body.details.join(' ')).toContain('date,region,pageName,views');
  });

  it('imports events exactly: days, Sunday weeks and months in New York, summary and series', async () => {
    const res = await upload(t, eventsFile, '?name=events.csv');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'imported', format: 'events-csv', lines: events.length, views: events.length, skipped: { count: 0 } });
    await expectCounts((g) => expectedCounts(events, g, TZ, SUNDAY));
    expect((await t.get(`/aggregated-data/summary?${RANGE}`)).body.views).toBe(events.length);
    const series = (await t.get(`/aggregated-data/timeseries?interval=week&${RANGE}`)).body.points as Array<{ views: number }>;
    expect(series.reduce((n, p) => n + p.views, 0)).toBe(events.length);
  });

  it('the same content again, plain or gzip, changes nothing', async () => {
    const before = await answers(t);
    const again = await upload(t, eventsFile);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('already imported');
    const gz = await upload(t, gzipSync(eventsFile), '', 'application/gzip');
    expect(gz.body).toMatchObject({ status: 'already imported', gzip: true, sha256: again.body.sha256 });
    expect(await answers(t)).toEqual(before);
  });

  it('imports daily counts (gzip) on top: each key adds up', async () => {
    const res = await upload(t, gzipSync(dailyFile), '?name=daily.csv.gz', 'application/gzip');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'imported', format: 'daily-csv', gzip: true, views: dailySource.length });
    await expectCounts((g) => add(expectedCounts(events, g, TZ, SUNDAY), dailyExpected(g)));
  });

  it('a recompute of the days from the event store reproduces the imported counts', async () => {
    const before = await answers(t);
    const run = await t.post('/admin/consolidate?from=2024-02-01&to=2026-01-31');
    expect(run.status).toBe(200);
    expect(await answers(t)).toEqual(before);
  });

  it('a bad line refuses the whole file with its line number, and stores nothing', async () => {
    const before = await answers(t);
    const lines = ['timestamp,region,pageName', '2025-05-05T12:00:00Z,DE,/fresh', '2025-05-05T12:00:00Z,D E,/fresh', '2025-05-05T13:00:00Z,DE,/fresh'];
    const res = await upload(t, `${lines.join('\n')}\n`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^line 3: region/);
    expect(await answers(t)).toEqual(before);
    // NDJSON, a page name with a control character on line 2
    const nd = await upload(
      t,
      '{"timestamp":"2025-05-05T12:00:00Z","region":"DE","pageName":"/ok"}\n{"timestamp":1746446400000,"region":"DE","pageName":"/a\\u0001"}\n',
      '',
      'application/x-ndjson',
    );
    expect(nd.status).toBe(400);
    expect(nd.body.error).toMatch(/^line 2: pageName/);
    expect(await answers(t)).toEqual(before);
  });

  it('page-stats import --skip-bad (through the running server) skips bad lines and says which', async () => {
    const before = (await t.get(`/aggregated-data/summary?${RANGE}`)).body.views as number;
    const file = join(t.dataDir, 'with-bad-lines.ndjson');
    const good = (i: number) => JSON.stringify({ timestamp: Date.parse('2025-08-10T03:30:00Z') + i * 60_000, region: 'SE', pageName: '/imported' });
    writeFileSync(file, [good(0), '{"timestamp":"yesterday","region":"SE","pageName":"/x"}', good(1), 'not json', good(2), ''].join('\n'));
    const cli = runCli(['import', '--skip-bad', file], { DATA_DIR: t.dataDir, ...ENV });
    expect(await cli.exited, cli.output()).toBe(0);
    const report = JSON.parse(cli.output().slice(cli.output().indexOf('{')));
    expect(report.files[0]).toMatchObject({ status: 'imported', format: 'events-ndjson', views: 3, skipped: { count: 2, lines: [2, 4] } });
    expect((await t.get(`/aggregated-data/summary?${RANGE}`)).body.views).toBe(before + 3);
    const sweden = (await t.get(`/aggregated-data/region-daily?${RANGE}&region=SE`)).body.rows;
    // 03:30 UTC is still the 9th in New York
    expect(sweden).toEqual([{ periodStart: '2025-08-09T04:00:00.000Z', region: 'SE', pageName: '/imported', views: 3 }]);
  });

  it('export, then import into an empty instance: identical answers', async () => {
    const exported = await fetch(`${t.url}/admin/export?from=2024-01-01&to=2026-02-28`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toContain('text/csv');
    const text = await exported.text();
    expect(text.startsWith('date,region,pageName,views\n')).toBe(true);
    const fresh = await startEmbeddedApp(ENV);
    try {
      const res = await upload(fresh, text, '?name=export.csv');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.format).toBe('daily-csv');
      expect(await answers(fresh)).toEqual(await answers(t));
    } finally {
      await fresh.close();
    }
  });
});
