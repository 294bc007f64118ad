import { MIGRATIONS } from '../../src/adapters/postgres/migrations.js';
import { DAY_MS } from './dataset.js';
import { dropIndexes, restoreIndexes, tableIndexes, withClient } from './pg-bulk.js';

/**
 * The previous release's schema (migration 1 only: region_* with their one secondary index, no
 * summed rollups, the database's default collation) in a schema of the large data set's database,
 * holding a copy of the same region_* rows. The consolidation baseline runs the release's SQL
 * against it (search_path), so both sides replace the same window in tables of the same size.
 */
export const RELEASE_SCHEMA = 'release_2daf3ba';

/** A connection string whose sessions see the release schema first. */
export function releaseUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${RELEASE_SCHEMA}`);
  return u.toString();
}

export async function createReleaseSchema(url: string): Promise<void> {
  const first = MIGRATIONS.find((m) => m.version === 1);
  if (first === undefined) throw new Error('migration 1 not found');
  await withClient(url, async (c) => {
    await c.query(`CREATE SCHEMA ${RELEASE_SCHEMA}`);
    await c.query(`SET search_path = ${RELEASE_SCHEMA}`);
    for (const statement of first.sql
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean))
      await c.query(statement);
  });
  // Copied without indexes, which are then built by sorting (see ensureLargeDataset).
  const tables = ['daily', 'weekly', 'monthly'].map((g) => `${RELEASE_SCHEMA}.region_${g}`);
  const indexes = await tableIndexes(url, tables, true);
  await dropIndexes(url, indexes);
  await withClient(url, async (c) => {
    for (const g of ['daily', 'weekly', 'monthly']) {
      await c.query(`INSERT INTO ${RELEASE_SCHEMA}.region_${g} SELECT period_start, period_end, region, page_name, views FROM public.region_${g}`);
    }
    await c.query(`INSERT INTO ${RELEASE_SCHEMA}.bot_daily SELECT * FROM public.bot_daily`);
  });
  await restoreIndexes(url, indexes);
  await withClient(url, async (c) => void (await c.query(`VACUUM ANALYZE ${[...tables, `${RELEASE_SCHEMA}.bot_daily`].join(', ')}`)));
}

/**
 * The release schema follows a data set moved forward (last day oldLast) to start at newFirst: region_daily loses the dropped days and gains the new ones; weeks and months near
 * either edge (within 35 days, which covers any period touching an edge) are copied again from
 * the product's tables, which the product has just recomputed and which hold the same counts.
 */
export async function slideReleaseSchema(url: string, newFirst: number, oldLast: number): Promise<void> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const low = iso(newFirst + 35 * DAY_MS);
  const high = iso(oldLast + DAY_MS - 35 * DAY_MS);
  await withClient(url, async (c) => {
    for (const t of ['region_daily', 'bot_daily']) {
      await c.query(`DELETE FROM ${RELEASE_SCHEMA}.${t} WHERE period_start < $1`, [iso(newFirst)]);
      await c.query(`INSERT INTO ${RELEASE_SCHEMA}.${t} SELECT * FROM public.${t} WHERE period_start > $1`, [iso(oldLast)]);
    }
    for (const g of ['weekly', 'monthly']) {
      await c.query(`DELETE FROM ${RELEASE_SCHEMA}.region_${g} WHERE period_start < $1 OR period_start >= $2`, [low, high]);
      await c.query(
        `INSERT INTO ${RELEASE_SCHEMA}.region_${g} SELECT period_start, period_end, region, page_name, views
         FROM public.region_${g} WHERE period_start < $1 OR period_start >= $2`,
        [low, high],
      );
    }
    await c.query(`VACUUM ANALYZE ${['region_daily', 'region_weekly', 'region_monthly', 'bot_daily'].map((t) => `${RELEASE_SCHEMA}.${t}`).join(', ')}`);
  });
}
