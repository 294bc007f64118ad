import { migrate } from '../../src/adapters/postgres/migrations.js';
import { rebuildLongPeriods } from '../../src/adapters/postgres/long-periods.js';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { POSTGRES_ADMIN_URL } from '../../test/helpers/postgres.js';
import { DAY_MS, isoDate, utcDay } from './dataset.js';
import { deriveMonths, generateDays } from './large-generate.js';
import { shapeKey, type LargeShape } from './large-shape.js';
import { dropIndexes, restoreIndexes, tableIndexes, withClient } from './pg-bulk.js';
import { createReleaseSchema, RELEASE_SCHEMA, slideReleaseSchema } from './release-schema.js';
import { log, now } from './stats.js';

export const ROLLUP_TABLES = ['region', 'by_page', 'by_region', 'site'].flatMap((t) =>
  ['daily', 'weekly', 'monthly', 'quarterly', 'yearly'].map((g) => `${t}_${g}`),
);

export interface LargeDataset {
  url: string;
  shape: LargeShape;
  /** first and last day held, UTC midnights */
  firstDay: number;
  lastDay: number;
  /** rows per table (the product's and the release schema's region_*) */
  rows: Record<string, number>;
  /** how long building it took (also when reused), and its steps */
  loadMs: number;
  loadSteps: Record<string, number>;
  /** 'built' now, 'reused' as it was, or 'moved' forward to end today */
  state: 'built' | 'reused' | 'moved';
  /** when moved: how long that took */
  moveMs?: number;
}

interface Marker {
  key: string;
  firstDay: number;
  lastDay: number;
  rows: Record<string, number>;
  loadMs: number;
  steps: Record<string, number>;
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** What the database `name` holds, from its marker table; undefined without one. */
async function readMarker(name: string): Promise<Marker | undefined> {
  const exists = await withClient(POSTGRES_ADMIN_URL, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
  if (!exists) return undefined;
  return await withClient(databaseUrl(name), async (c) => {
    if (!(await c.query<{ ok: boolean }>(`SELECT to_regclass('bench_dataset') IS NOT NULL AS ok`)).rows[0]?.ok) return undefined;
    // Read as JSON: a marker written by an older version of this code may lack columns.
    const { rows } = await c.query<{ m: Record<string, unknown> }>('SELECT to_jsonb(b) AS m FROM bench_dataset AS b');
    const m = rows[0]?.m;
    if (m === undefined || typeof m.key !== 'string' || typeof m.first_day !== 'string' || typeof m.last_day !== 'string') return undefined;
    return {
      key: m.key,
      firstDay: Date.parse(m.first_day),
      lastDay: Date.parse(m.last_day),
      rows: m.row_counts as Record<string, number>,
      loadMs: Number(m.load_ms),
      steps: m.steps as Record<string, number>,
    };
  });
}

async function writeMarker(url: string, m: Marker): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS bench_dataset (
      key text NOT NULL, first_day timestamptz NOT NULL, last_day timestamptz NOT NULL, row_counts jsonb NOT NULL,
      load_ms integer NOT NULL, steps jsonb NOT NULL, written_at timestamptz NOT NULL DEFAULT now())`);
    await c.query('DELETE FROM bench_dataset');
    await c.query('INSERT INTO bench_dataset (key, first_day, last_day, row_counts, load_ms, steps) VALUES ($1, $2, $3, $4, $5, $6)', [
      m.key,
      new Date(m.firstDay),
      new Date(m.lastDay),
      m.rows,
      m.loadMs,
      m.steps,
    ]);
  });
}

async function countRows(url: string): Promise<Record<string, number>> {
  return await withClient(url, async (c) => {
    const rows: Record<string, number> = {};
    for (const t of [...ROLLUP_TABLES, ...['daily', 'weekly', 'monthly'].map((g) => `${RELEASE_SCHEMA}.region_${g}`)]) {
      rows[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]?.n ?? 0);
    }
    return rows;
  });
}

/**
 * The large data set in a database of its own (`bench_large`, `bench_large_quick`), ending today
 * (UTC). Built once; reused while its shape is unchanged; when days have passed, moved forward
 * (the new days generated and derived, the oldest dropped) instead of built again. Newer product
 * migrations are applied to it, as an upgrade would apply them.
 */
export async function ensureLargeDataset(shape: LargeShape, today = utcDay(Date.now(), 0)): Promise<LargeDataset> {
  const name = shape.label === 'full' ? 'bench_large' : `bench_large_${shape.label}`;
  const url = databaseUrl(name);
  const firstDay = today - (shape.days - 1) * DAY_MS;
  const key = shapeKey(shape);
  const stored = await readMarker(name);
  const base = { url, shape, firstDay, lastDay: today };
  if (stored?.key === key && stored.lastDay <= today && today - stored.lastDay < shape.days * DAY_MS) {
    await withMigrations(url);
    if (stored.lastDay === today) {
      await vacuumAll(url);
      return { ...base, rows: stored.rows, loadMs: stored.loadMs, loadSteps: stored.steps, state: 'reused' };
    }
    const t0 = now();
    log(`large: moving the ${shape.label} data set forward from ${isoDate(stored.lastDay)} to ${isoDate(today)}`);
    await moveForward(url, shape, stored, firstDay, today);
    const rows = await countRows(url);
    await writeMarker(url, { ...stored, firstDay, lastDay: today, rows });
    return { ...base, rows, loadMs: stored.loadMs, loadSteps: stored.steps, state: 'moved', moveMs: now() - t0 };
  }
  log(`large: ${stored === undefined ? 'building' : 'rebuilding (its shape changed)'} the ${shape.label} data set in database ${name}`);
  const { rows, steps } = await build(name, url, shape, firstDay, today);
  const loadMs = steps.total ?? 0;
  await writeMarker(url, { key, firstDay, lastDay: today, rows, loadMs, steps });
  return { ...base, rows, loadMs, loadSteps: steps, state: 'built' };
}

/**
 * VACUUM ANALYZE of every table the stage reads or writes, in both schemas. The PostgreSQL on these
 * machines runs with autovacuum off: without this, the dead rows each consolidation run leaves
 * would pile up (and the release schema, written less, would be favoured).
 */
export async function vacuumAll(url: string): Promise<void> {
  const release = ['region_daily', 'region_weekly', 'region_monthly', 'bot_daily'].map((t) => `${RELEASE_SCHEMA}.${t}`);
  await withClient(url, async (c) => void (await c.query(`VACUUM ANALYZE bot_daily, ${[...ROLLUP_TABLES, ...release].join(', ')}`)));
}

async function withMigrations(url: string): Promise<void> {
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
}

async function build(
  name: string,
  url: string,
  shape: LargeShape,
  firstDay: number,
  lastDay: number,
): Promise<{ rows: Record<string, number>; steps: Record<string, number> }> {
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
    const dailyKey = (await tableIndexes(url, ['region_daily'], true)).filter((i) => i.kind === 'constraint');
    const secondary = (await tableIndexes(url, ['region_daily', 'region_weekly', 'region_monthly'], false)).filter((i) => i.kind === 'index');
    await dropIndexes(url, [...secondary, ...dailyKey]);
    await step('region_daily generated', () => generateDays(url, shape, firstDay, lastDay));
    await step('region_daily primary key built', () => restoreIndexes(url, dailyKey));
    await step('weeks, months and summed rollups derived (deriveWindow per month)', () => deriveMonths(db, firstDay, lastDay + DAY_MS));
    await step('quarters and years derived from the months', () => db.transaction((tx) => rebuildLongPeriods(tx)));
    await step('secondary indexes built', () => restoreIndexes(url, secondary));
    await botsFromSite(url, firstDay, lastDay + DAY_MS);
    await step('VACUUM ANALYZE', () => withClient(url, async (c) => void (await c.query(`VACUUM ANALYZE bot_daily, ${ROLLUP_TABLES.join(', ')}`))));
    await step('release schema (migration 1) filled for the consolidation baseline', () => createReleaseSchema(url));
  } finally {
    await db.close();
  }
  steps.total = Math.round(now() - t0);
  return { rows: await countRows(url), steps };
}

/** A little bot traffic (a percent of the views), so the summary's bot figure has something to add up. */
async function botsFromSite(url: string, start: number, end: number): Promise<void> {
  await withClient(url, async (c) => {
    const range = [new Date(start).toISOString(), new Date(end).toISOString()];
    await c.query('DELETE FROM bot_daily WHERE period_start >= $1 AND period_start < $2', range);
    await c.query(
      `INSERT INTO bot_daily (period_start, period_end, hits)
       SELECT period_start, period_start + interval '1 day', views / 97 FROM site_daily WHERE period_start >= $1 AND period_start < $2`,
      range,
    );
  });
}

/**
 * Days passed since the data set was made: the days before the new first day are dropped and the
 * new days generated, then the product's deriveWindow recomputes every week and month touching
 * either edge (and the summed rollups), as it would for any consolidation window.
 */
async function moveForward(url: string, shape: LargeShape, stored: Marker, firstDay: number, today: number): Promise<void> {
  const db = openPostgres(url, { max: 2 });
  try {
    await withClient(url, async (c) => {
      await c.query('DELETE FROM region_daily WHERE period_start < $1', [new Date(firstDay).toISOString()]);
      await c.query('DELETE FROM bot_daily WHERE period_start < $1', [new Date(firstDay).toISOString()]);
    });
    await generateDays(url, shape, stored.lastDay + DAY_MS, today);
    await deriveMonths(db, stored.firstDay, firstDay);
    await deriveMonths(db, stored.lastDay + DAY_MS, today + DAY_MS);
    await db.transaction((tx) => rebuildLongPeriods(tx));
    await botsFromSite(url, stored.lastDay + DAY_MS, today + DAY_MS);
    await slideReleaseSchema(url, firstDay, stored.lastDay);
    await vacuumAll(url);
  } finally {
    await db.close();
  }
}
