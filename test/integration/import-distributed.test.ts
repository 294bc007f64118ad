// `page-stats import` and `export` as separate processes against PostgreSQL and InfluxDB: the
// imported counts are exact in every rollup, a recompute from InfluxDB keeps them, the same file
// twice counts once, and a refused file stores nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents } from '../helpers/events.js';
import { apiCounts, expectedCounts, type Granularity } from '../helpers/expected-counts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { runCli } from '../helpers/process.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';

const TZ = 'Europe/Berlin';

describe('import and export through the CLI on PostgreSQL and InfluxDB', () => {
  let influx: InfluxDB;
  let database: TestDatabase;
  let env: Record<string, string>;
  let dir: string;
  const events = generateEvents(2_000, 41);

  const cli = async (args: string[]): Promise<{ code: number | null; output: string }> => {
    const p = runCli(args, env);
    const code = await p.exited;
    return { code, output: p.output() };
  };
  const rows = async (g: Granularity) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const res = await client.query(`SELECT period_start, region, page_name, views::float8 AS views FROM region_${g}`);
      return res.rows.map((r) => ({ periodStart: (r.period_start as Date).toISOString(), region: r.region, pageName: r.page_name, views: Number(r.views) }));
    } finally {
      await client.end();
    }
  };
  const expectExact = async () => {
    for (const g of ['daily', 'weekly', 'monthly'] as Granularity[]) expect(apiCounts(await rows(g), TZ), g).toEqual(expectedCounts(events, g, TZ, 1));
  };

  beforeAll(async () => {
    [influx, database] = await Promise.all([startInfluxDB(), createTestDatabase('import')]);
    dir = mkdtempSync(join(tmpdir(), 'page-stats-import-'));
    env = { INFLUX_URL: influx.url, INFLUX_DB: 'import_bucket', DATABASE_URL: database.url, REPORT_TIMEZONE: TZ, DATA_DIR: dir };
    const migrate = await cli(['migrate']);
    expect(migrate.code, migrate.output).toBe(0);
  });
  afterAll(async () => {
    await Promise.allSettled([influx?.stop(), database?.drop()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('imports a gzip NDJSON file exactly, once, and a recompute from InfluxDB keeps it', async () => {
    const file = join(dir, 'events.ndjson.gz');
    writeFileSync(file, gzipSync(events.map((e) => JSON.stringify(e)).join('\n')));
    const first = await cli(['import', file]);
    expect(first.code, first.output).toBe(0);
    const report = JSON.parse(first.output.slice(first.output.indexOf('{')));
    expect(report.files[0]).toMatchObject({ status: 'imported', format: 'events-ndjson', gzip: true, lines: events.length, views: events.length });
    await expectExact();

    const again = await cli(['import', file]);
    expect(again.code, again.output).toBe(0);
    expect(JSON.parse(again.output.slice(again.output.indexOf('{'))).files[0].status).toBe('already imported');
    const recompute = await cli(['consolidate', '--from', '2024-02-01', '--to', '2026-01-31']);
    expect(recompute.code, recompute.output).toBe(0);
    await expectExact();
  });

  it('a file with a bad line is refused (exit 1, line number) and stores nothing', async () => {
    const before = await rows('daily');
    const file = join(dir, 'daily.csv');
    writeFileSync(file, 'date,region,pageName,views\n2025-01-02,DE,/new,4\n2025-01-03,DE,/new,-1\n');
    const run = await cli(['import', file]);
    expect(run.code).toBe(1);
    expect(run.output).toContain('line 3: views');
    expect(await rows('daily')).toEqual(before);
  });

  it('export writes the daily counts of the range in the import format', async () => {
    const out = join(dir, 'export.csv');
    const run = await cli(['export', '--from', '2024-01-01', '--to', '2026-02-28', '--out', out]);
    expect(run.code, run.output).toBe(0);
    const [header, ...lines] = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(header).toBe('date,region,pageName,views');
    const total = lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(',') + 1)), 0);
    expect(total).toBe(events.length);
    expect(lines.length).toBe(expectedCounts(events, 'daily', TZ, 1).size);
  });
});
