import { migrate } from '../../src/adapters/postgres/migrations.js';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { deriveWindow } from '../../src/adapters/postgres/rollup-store.js';
import { POSTGRES_ADMIN_URL } from '../../test/helpers/postgres.js';
import { DAY_MS, isoDate, utcDay } from './dataset.js';
import { PAGE_MULTIPLIER, pageNames, REGION_MULTIPLIER, regionCodes, shapeKey, zipfWeights, type LargeShape } from './large-shape.js';
import { createReleaseSchema, RELEASE_SCHEMA } from './release-schema.js';
import { dropIndexes, restoreIndexes, tableIndexes, withClient } from './pg-bulk.js';
import { log, now } from './stats.js';

export const ROLLUP_TABLES = ['region', 'by_page', 'by_region', 'site'].flatMap((t) => ['daily', 'weekly', 'monthly'].map((g) => `${t}_${g}`));

export interface LargeDataset {
  url: string;
  shape: LargeShape;
  /** first and last day held, UTC midnights */
  firstDay: number;
  lastDay: number;
  /** rows per table (the product's and the release schema's region_*) */
  rows: Record<string, number>;
  /** how long building it took, when it was built (also when reused) */
  loadMs: number;
  loadSteps: Record<string, number>;
  reused: boolean;
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The cache key of the data set a database holds, or undefined (no database, no marker). */
async function storedKey(name: string): Promise<{ key: string; rows: Record<string, number>; loadMs: number; steps: Record<string, number> } | undefined> {
  const exists = await withClient(POSTGRES_ADMIN_URL, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
  if (!exists) return undefined;
  return await withClient(databaseUrl(name), async (c) => {
    const t = await c.query(`SELECT to_regclass('bench_dataset') IS NOT NULL AS ok`);
    if (!(t.rows[0] as { ok: boolean }).ok) return undefined;
    const r = await c.query<{ key: string; row_counts: Record<string, number>; load_ms: number; steps: Record<string, number> }>(
      'SELECT key, row_counts, load_ms, steps FROM bench_dataset',
    );
    const row = r.rows[0];
    return row === undefined ? undefined : { key: row.key, rows: row.row_counts, loadMs: row.load_ms, steps: row.steps };
  });
}

/**
 * The large data set in a database of its own (`bench_large`, `bench_large_quick`), built once and
 * reused while its parameters and its last day (today, UTC) are unchanged.
 * Building: region_daily generated inside PostgreSQL in one INSERT … SELECT per block of days (a
 * deterministic pseudo-random draw per (day, region, page)), then the product's own `deriveWindow`
 * per calendar month for weeks, months and the summed rollups, then VACUUM ANALYZE. The release
 * schema (migration 1 only, for the consolidation baseline) gets a copy of region_*.
 */
export async function ensureLargeDataset(shape: LargeShape): Promise<LargeDataset> {
  const name = shape.label === 'full' ? 'bench_large' : `bench_large_${shape.label}`;
  const url = databaseUrl(name);
  const lastDay = utcDay(Date.now(), 0);
  const firstDay = lastDay - (shape.days - 1) * DAY_MS;
  const key = shapeKey(shape, isoDate(firstDay), isoDate(lastDay));
  const stored = await storedKey(name);
  if (stored?.key === key) {
    // Newer product migrations are applied to the cached data, as an upgrade would apply them.
    const db = openPostgres(url, { max: 1 });
    try {
      const applied = await migrate(db);
      if (applied.length > 0) {
        log(`large: applied migration(s) ${applied.join(', ')} to the cached data set`);
        await db.query(`VACUUM ANALYZE ${ROLLUP_TABLES.join(', ')}`);
      }
    } finally {
      await db.close();
    }
    return { url, shape, firstDay, lastDay, rows: stored.rows, loadMs: stored.loadMs, loadSteps: stored.steps, reused: true };
  }
  log(`large: ${stored === undefined ? 'building' : 'rebuilding (parameters or day changed)'} the ${shape.label} data set in database ${name}`);
  await withClient(POSTGRES_ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const steps: Record<string, number> = {};
  const step = async (label: string, work: () => Promise<void>): Promise<void> => {
    const t0 = now();
    await work();
    steps[label] = Math.round(now() - t0);
    log(`large: ${label} ${(steps[label] / 1000).toFixed(1)} s`);
  };
  const t0 = now();
  const db = openPostgres(url, { max: 2 });
  try {
    await migrate(db);
    // Indexes are built once the rows are in: a sort is far cheaper than maintaining a btree row by
    // row. region_daily's primary key comes back first, since deriveWindow reads days through it.
    const dailyKey = await tableIndexes(url, ['region_daily'], true);
    const secondary = (await tableIndexes(url, ['region_daily', 'region_weekly', 'region_monthly'], false)).filter((i) => i.kind === 'index');
    await dropIndexes(url, [...secondary, ...dailyKey.filter((i) => i.kind === 'constraint')]);
    await step('region_daily generated', () => generateDaily(url, shape, firstDay));
    await step('region_daily primary key built', () => restoreIndexes(url, dailyKey.filter((i) => i.kind === 'constraint')));
    await step('weeks, months and summed rollups derived (deriveWindow per month)', () => deriveMonths(db, firstDay, lastDay));
    await step('secondary indexes built', () => restoreIndexes(url, secondary));
    await withClient(url, async (c) => {
      // A little bot traffic, so the summary's bot figure has something to add up.
      await c.query(`INSERT INTO bot_daily (period_start, period_end, hits)
                     SELECT period_start, period_start + interval '1 day', views / 97 FROM site_daily`);
    });
    await step('VACUUM ANALYZE', () => withClient(url, async (c) => void (await c.query(`VACUUM ANALYZE bot_daily, ${ROLLUP_TABLES.join(', ')}`))));
    await step(`release schema (migration 1) filled for the consolidation baseline`, () => createReleaseSchema(url));
    const rows: Record<string, number> = {};
    await withClient(url, async (c) => {
      for (const t of [...ROLLUP_TABLES, ...['daily', 'weekly', 'monthly'].map((g) => `${RELEASE_SCHEMA}.region_${g}`)]) {
        rows[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]?.n ?? 0);
      }
      const loadMs = Math.round(now() - t0);
      steps.total = loadMs;
      await c.query('CREATE TABLE bench_dataset (key text NOT NULL, row_counts jsonb NOT NULL, load_ms integer NOT NULL, steps jsonb NOT NULL, built_at timestamptz NOT NULL DEFAULT now())');
      await c.query('INSERT INTO bench_dataset (key, row_counts, load_ms, steps) VALUES ($1, $2, $3, $4)', [key, rows, loadMs, steps]);
    });
    return { url, shape, firstDay, lastDay, rows, loadMs: steps.total ?? 0, loadSteps: steps, reused: false };
  } finally {
    await db.close();
  }
}

/**
 * region_daily for every day, generated in PostgreSQL. Each (region, page) pair has an expected
 * count λ = viewsPerDay × w(region) × w(page) × day factor (weekends lower, slow growth over the
 * year); the day's count is a Poisson-like draw from hashes of (day, region, page): stored with
 * probability 1 − e^−λ (exactly Poisson's chance of at least one view), its value λ ± √λ·z (normal
 * approximation, at least 1). Blocks of days run on two connections at once (two cores).
 */
async function generateDaily(url: string, shape: LargeShape, firstDay: number): Promise<void> {
  const regions = regionCodes(shape.regions);
  const pages = pageNames(shape.pages);
  const wr = zipfWeights(shape.regions, shape.regionSkew, REGION_MULTIPLIER);
  const wp = zipfWeights(shape.pages, shape.pageSkew, PAGE_MULTIPLIER);
  await withClient(url, async (c) => {
    await c.query(`CREATE FUNCTION bench_u(k bigint, seed bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
                   RETURN ((hashint8extended(k, seed) >> 11) & 9007199254740991)::float8 / 9007199254740992.0`);
    await c.query(
      `CREATE UNLOGGED TABLE bench_gen_pairs AS
       SELECT (r.i * $5::int + p.i)::bigint AS id, r.code AS region, p.name AS page_name, $6::float8 * r.w * p.w AS lam
       FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS r(code, w, i)
       CROSS JOIN unnest($3::text[], $4::float8[]) WITH ORDINALITY AS p(name, w, i)
       ORDER BY r.code COLLATE "C", p.name COLLATE "C"`,
      [regions, wr, pages, wp, shape.pages, shape.viewsPerDay],
    );
    await c.query('ANALYZE bench_gen_pairs');
  });
  const pairs = shape.regions * shape.pages;
  const blocks: Array<[number, number]> = [];
  for (let i = 0; i < shape.days; i += 7) blocks.push([i, Math.min(shape.days, i + 7) - 1]);
  const work = async (): Promise<void> =>
    await withClient(url, async (c) => {
      for (let block = blocks.shift(); block !== undefined; block = blocks.shift()) {
        await c.query(
          // The day factor is computed once per day (a materialised CTE), not once per pair.
          `WITH g AS MATERIALIZED (
             SELECT i, ($1::date + i)::timestamptz AS day,
                    ((CASE WHEN extract(isodow FROM $1::date + i) >= 6 THEN 0.7 ELSE 1.1 END) * (0.85 + 0.3 * i / $5::float8))::float8 AS f
             FROM generate_series($2::int, $3::int) AS i)
           INSERT INTO region_daily (period_start, period_end, region, page_name, views)
           SELECT day, day + interval '1 day', region, page_name,
                  greatest(1, round(l + sqrt(l) * sqrt(-2 * ln(1 - bench_u(k, 2))) * cos(2 * pi() * bench_u(k, 3))))::bigint
           FROM (SELECT g.day, x.region, x.page_name, x.lam * g.f AS l, g.i::bigint * $4::bigint + x.id AS k
                 FROM g CROSS JOIN bench_gen_pairs AS x) AS c
           WHERE l > 40 OR bench_u(k, 1) >= exp(-l)`,
          [isoDate(firstDay), block[0], block[1], pairs, Math.max(1, shape.days - 1)],
        );
      }
    });
  await Promise.all([work(), work()]);
  await withClient(url, async (c) => {
    await c.query('DROP TABLE bench_gen_pairs');
    await c.query('DROP FUNCTION bench_u');
  });
}

/**
 * deriveWindow for each calendar month, in two passes over every other month with two
 * connections: months two apart share no week, so concurrent transactions never touch the same
 * rows; the second pass recomputes the weeks that straddle months, from complete days.
 */
async function deriveMonths(db: SqlDatabase, firstDay: number, lastDay: number): Promise<void> {
  const months: Array<{ start: number; end: number }> = [];
  for (let start = firstDay; start <= lastDay; ) {
    const d = new Date(start);
    const end = Math.min(lastDay + DAY_MS, Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    months.push({ start, end });
    start = end;
  }
  for (const parity of [0, 1]) {
    const queue = months.filter((_, i) => i % 2 === parity);
    const worker = async (): Promise<void> => {
      for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
        const window = m;
        await db.transaction((tx) => deriveWindow(tx, { ...window, timeZone: 'UTC', weekStart: 1 }));
      }
    };
    await Promise.all([worker(), worker()]);
  }
}
