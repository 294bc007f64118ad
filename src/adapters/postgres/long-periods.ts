import type { SqlClient } from './database.js';

/**
 * Quarters and years of every rollup family (`region_*` pairs, `by_page_*`, `by_region_*`,
 * `site_*`): a 12-month question reads one or a few rows per key instead of 12–18 (see
 * decomposeDays). Their rows are keyed by the local date the period starts on, so they can be
 * derived from the monthly rows without knowing the time zone: a month's midpoint lies in the same
 * month in UTC as in any zone. They are kept by addition: each fold adds its new days' counts, and a
 * recompute of a window adds the difference between the window's days before and after.
 */
const LONG_PERIODS = ['quarterly', 'yearly'] as const;
type LongPeriod = (typeof LONG_PERIODS)[number];

const UNIT: Record<LongPeriod, string> = { quarterly: 'quarter', yearly: 'year' };

/** Each family's key columns after `period_start`. */
const FAMILIES = [
  ['region', ['region', 'page_name']],
  ['by_page', ['page_name']],
  ['by_region', ['region']],
  ['site', []],
] as const;

/**
 * The tables (migration 8). No `CHECK (views >= 0)`: PostgreSQL checks an upsert's proposed row
 * before it finds the conflict, and a recompute's negative difference to an existing row is such a row.
 */
export function longPeriodTables(): string[] {
  // One page's regions (`region_*` filtered by page) need the page first, as migration 5 gave the
  // shorter periods; key-only, so an added count can stay a HOT update.
  const pageIndexes = LONG_PERIODS.map((l) => `CREATE INDEX region_${l}_page_idx ON region_${l} (page_name, period_start)`);
  const tables = LONG_PERIODS.flatMap((l) =>
    FAMILIES.map(([family, keys]) => {
      const columns = keys.map((k) => `${k} text COLLATE "C" NOT NULL,`).join(' ');
      return `CREATE TABLE ${family}_${l} (
        period_start date NOT NULL,
        ${columns}
        views        bigint NOT NULL,
        PRIMARY KEY (period_start${keys.map((k) => `, ${k}`).join('')})
      )`;
    }),
  );
  return [...tables, ...pageIndexes];
}

/**
 * Every quarterly and yearly row again from `region_monthly`: for the migration that adds them to a
 * database with history, and for bulk loads that write the daily and monthly rows directly.
 */
export function rebuildStatements(): string[] {
  const statements: string[] = [];
  for (const l of LONG_PERIODS) for (const [family] of FAMILIES) statements.push(`DELETE FROM ${family}_${l}`);
  const month = `date_trunc('month', (period_start + (period_end - period_start) / 2) AT TIME ZONE 'UTC')`;
  statements.push(
    `INSERT INTO region_quarterly (period_start, region, page_name, views)
     SELECT date_trunc('quarter', ${month})::date, region, page_name, sum(views) FROM region_monthly GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    `INSERT INTO region_yearly (period_start, region, page_name, views)
     SELECT date_trunc('year', period_start)::date, region, page_name, sum(views) FROM region_quarterly GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  for (const l of LONG_PERIODS) {
    for (const [family, keys] of FAMILIES) {
      if (family === 'region') continue;
      const columns = ['period_start', ...keys].join(', ');
      statements.push(`INSERT INTO ${family}_${l} (${columns}, views) SELECT ${columns}, sum(views) FROM region_${l} GROUP BY ${columns} ORDER BY ${columns}`);
    }
  }
  return statements;
}

export async function rebuildLongPeriods(db: SqlClient): Promise<void> {
  for (const statement of rebuildStatements()) await db.query(statement);
}

/**
 * Adds day-level differences to every quarterly and yearly row they fall in. `days` is a relation
 * (a table or a parenthesised query with an alias) of `day` (a local midnight), `region`,
 * `page_name` and `views` (a difference, positive or negative); `zone` is the report's time zone.
 * Rows a negative difference brings to 0 are removed.
 */
export async function addDayDifferences(tx: SqlClient, days: string, zone: string): Promise<void> {
  const { rows } = await tx.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${days}) AS any`);
  if (rows[0]?.any !== true) return;
  for (const l of LONG_PERIODS) {
    const periods = `(SELECT date_trunc('${UNIT[l]}', day AT TIME ZONE $1::text)::date AS p, region, page_name, views FROM ${days}) AS d`;
    for (const [family, keys] of FAMILIES) {
      const table = `${family}_${l}`;
      const columns = ['period_start', ...keys];
      const grouped = ['p', ...keys].join(', ');
      // The rows a negative difference brought to 0 come back from the upsert: usually none.
      const { rows: emptied } = await tx.query<Record<string, string>>(
        `WITH up AS (
           INSERT INTO ${table} (${columns.join(', ')}, views)
           SELECT ${grouped}, sum(views) FROM ${periods} GROUP BY ${grouped} HAVING sum(views) <> 0 ORDER BY ${grouped}
           ON CONFLICT (${columns.join(', ')}) DO UPDATE SET views = ${table}.views + excluded.views
           RETURNING ${columns.join(', ')}, views)
         SELECT ${columns.map((c) => `${c}::text AS ${c}`).join(', ')} FROM up WHERE views = 0`,
        [zone],
      );
      if (emptied.length > 0) {
        const match = columns.map((c, i) => `t.${c} = z.${c}::${i === 0 ? 'date' : 'text'}`).join(' AND ');
        await tx.query(
          `DELETE FROM ${table} AS t USING ROWS FROM (${columns.map((_, i) => `unnest($${i + 1}::text[])`).join(', ')}) AS z(${columns.join(', ')}) WHERE ${match}`,
          columns.map((c) => emptied.map((r) => r[c])),
        );
      }
    }
  }
}
