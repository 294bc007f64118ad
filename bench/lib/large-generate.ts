import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { deriveWindow } from '../../src/adapters/postgres/rollup-store.js';
import { DAY_MS } from './dataset.js';
import { PAGE_MULTIPLIER, pageNames, REGION_MULTIPLIER, regionCodes, zipfWeights, type LargeShape } from './large-shape.js';
import { withClient } from './pg-bulk.js';

/**
 * region_daily rows for the UTC days [fromDay, toDay], generated inside PostgreSQL. Each (region,
 * page) pair has an expected count λ = viewsPerDay × w(region) × w(page) × day factor (weekends
 * lower, a yearly season); the day's count is a Poisson-like draw from hashes of (date, region,
 * page): stored with probability 1 − e^−λ (exactly Poisson's chance of at least one view), its value
 * λ ± √λ·z (normal approximation, at least 1). Everything depends on the calendar date, not on where
 * the data set starts, so a data set moved forward by a day equals one built on that day. Blocks of
 * days run on two connections at once (two cores).
 */
export async function generateDays(url: string, shape: LargeShape, fromDay: number, toDay: number): Promise<void> {
  const regions = regionCodes(shape.regions);
  const pages = pageNames(shape.pages);
  const wr = zipfWeights(shape.regions, shape.regionSkew, REGION_MULTIPLIER);
  const wp = zipfWeights(shape.pages, shape.pageSkew, PAGE_MULTIPLIER);
  await withClient(url, async (c) => {
    await c.query('DROP TABLE IF EXISTS bench_gen_pairs');
    await c.query(`CREATE OR REPLACE FUNCTION bench_u(k bigint, seed bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
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
  const first = Math.round(fromDay / DAY_MS);
  const last = Math.round(toDay / DAY_MS);
  const blocks: Array<[number, number]> = [];
  for (let i = first; i <= last; i += 7) blocks.push([i, Math.min(last, i + 6)]);
  const work = async (): Promise<void> =>
    await withClient(url, async (c) => {
      for (let block = blocks.shift(); block !== undefined; block = blocks.shift()) {
        await c.query(
          // The day factor is computed once per day (a materialised CTE), not once per pair.
          `WITH g AS MATERIALIZED (
             SELECT i, ('1970-01-01'::date + i)::timestamptz AS day,
                    ((CASE WHEN extract(isodow FROM '1970-01-01'::date + i) >= 6 THEN 0.7 ELSE 1.1 END)
                     * (1 + 0.15 * sin(2 * pi() * extract(doy FROM '1970-01-01'::date + i)::float8 / 365.25)))::float8 AS f
             FROM generate_series($1::int, $2::int) AS i)
           INSERT INTO region_daily (period_start, period_end, region, page_name, views)
           SELECT day, day + interval '1 day', region, page_name,
                  greatest(1, round(l + sqrt(l) * sqrt(-2 * ln(1 - bench_u(k, 2))) * cos(2 * pi() * bench_u(k, 3))))::bigint
           FROM (SELECT g.day, x.region, x.page_name, x.lam * g.f AS l, g.i::bigint * $3::bigint + x.id AS k
                 FROM g CROSS JOIN bench_gen_pairs AS x) AS c
           WHERE l > 40 OR bench_u(k, 1) >= exp(-l)`,
          [block[0], block[1], pairs],
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
 * The product's deriveWindow over [start, end) one calendar month at a time, in two passes over
 * every other month with two connections: months two apart share no week, so the concurrent
 * transactions never touch the same rows; the second pass recomputes the weeks that straddle
 * months, from complete days.
 */
export async function deriveMonths(db: SqlDatabase, start: number, end: number): Promise<void> {
  const months: Array<{ start: number; end: number }> = [];
  for (let from = start; from < end; ) {
    const d = new Date(from);
    const to = Math.min(end, Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    months.push({ start: from, end: to });
    from = to;
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
