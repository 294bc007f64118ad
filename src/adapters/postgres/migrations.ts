import type { SqlDatabase } from './database.js';
import { longPeriodTables, rebuildStatements } from './long-periods.js';

/**
 * Schema migrations, shared by PostgreSQL and PGlite. Append only: a released migration is never edited.
 * `period_end` is stored beside `period_start` so overlap queries need no time-zone maths at read time.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'rollup tables',
    sql: `
      CREATE TABLE region_daily (
        period_start timestamptz NOT NULL,
        period_end   timestamptz NOT NULL,
        region       text        NOT NULL,
        page_name    text        NOT NULL,
        views        bigint      NOT NULL CHECK (views >= 0),
        PRIMARY KEY (period_start, region, page_name)
      );
      CREATE TABLE region_weekly  (LIKE region_daily INCLUDING ALL);
      CREATE TABLE region_monthly (LIKE region_daily INCLUDING ALL);
      CREATE INDEX region_daily_region_idx   ON region_daily   (region, period_start);
      CREATE INDEX region_weekly_region_idx  ON region_weekly  (region, period_start);
      CREATE INDEX region_monthly_region_idx ON region_monthly (region, period_start);
      CREATE TABLE bot_daily (
        period_start timestamptz PRIMARY KEY,
        period_end   timestamptz NOT NULL,
        hits         bigint      NOT NULL CHECK (hits >= 0)
      );
      CREATE TABLE consolidation_runs (
        id          bigserial PRIMARY KEY,
        window_start timestamptz NOT NULL,
        window_end   timestamptz NOT NULL,
        time_zone    text NOT NULL,
        daily_rows   integer NOT NULL,
        weekly_rows  integer NOT NULL,
        monthly_rows integer NOT NULL,
        finished_at  timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'stats rollups',
    // Byte-order collation makes the primary keys match the API's sort order, so paging walks an
    // index. The by_page_* / by_region_* / site_* tables are region_* summed over one dimension:
    // a question about all regions reads one row per page and period, not one per pair. The
    // secondary indexes cover the filtered questions (one region's pages, one page's regions).
    sql: `
      ${['daily', 'weekly', 'monthly']
        .map(
          (g) => `
      ALTER TABLE region_${g} ALTER COLUMN region TYPE text COLLATE "C", ALTER COLUMN page_name TYPE text COLLATE "C";
      DROP INDEX region_${g}_region_idx;
      CREATE INDEX region_${g}_region_idx ON region_${g} (region, period_start, page_name) INCLUDE (views);
      CREATE INDEX region_${g}_page_idx ON region_${g} (page_name, period_start, region) INCLUDE (views);
      CREATE TABLE by_page_${g} (
        period_start timestamptz NOT NULL,
        page_name    text COLLATE "C" NOT NULL,
        views        bigint NOT NULL CHECK (views >= 0),
        PRIMARY KEY (period_start, page_name)
      );
      CREATE TABLE by_region_${g} (
        period_start timestamptz NOT NULL,
        region       text COLLATE "C" NOT NULL,
        views        bigint NOT NULL CHECK (views >= 0),
        PRIMARY KEY (period_start, region)
      );
      CREATE TABLE site_${g} (
        period_start timestamptz PRIMARY KEY,
        views        bigint NOT NULL CHECK (views >= 0)
      );
      INSERT INTO by_page_${g} SELECT period_start, page_name, sum(views) FROM region_${g} GROUP BY 1, 2;
      INSERT INTO by_region_${g} SELECT period_start, region, sum(views) FROM region_${g} GROUP BY 1, 2;
      INSERT INTO site_${g} SELECT period_start, sum(views) FROM region_${g} GROUP BY 1`,
        )
        .join(';')}
    `,
  },
  {
    version: 3,
    name: 'incremental consolidation',
    // processing adds each event's count here once (its partition's position moves in the same
    // transaction); the consolidator folds the rows into the rollups and deletes them. Buckets
    // are UTC quarter hours: every time zone's midnight falls on one, so each bucket belongs to
    // exactly one local day in any REPORT_TIMEZONE.
    sql: `
      CREATE TABLE processed_offsets (
        log_partition integer PRIMARY KEY,
        through       bigint NOT NULL
      );
      CREATE TABLE pending_views (
        log_partition integer NOT NULL,
        batch_through bigint NOT NULL,
        bucket        timestamptz NOT NULL,
        region        text COLLATE "C" NOT NULL,
        page_name     text COLLATE "C" NOT NULL,
        views         bigint NOT NULL CHECK (views > 0)
      );
      CREATE INDEX pending_views_bucket_idx ON pending_views (bucket);
      CREATE TABLE pending_bots (
        log_partition integer NOT NULL,
        batch_through bigint NOT NULL,
        bucket        timestamptz NOT NULL,
        hits          bigint NOT NULL CHECK (hits > 0)
      );
      ALTER TABLE consolidation_runs ADD COLUMN mode text NOT NULL DEFAULT 'legacy';
      ALTER TABLE consolidation_runs ALTER COLUMN mode SET DEFAULT 'range';
      CREATE INDEX consolidation_runs_mode_idx ON consolidation_runs (mode, id)
    `,
  },
  {
    version: 4,
    name: 'request identity and dead letters',
    // The copy of a request that processing stored first, by request id, for as long as another
    // copy can arrive: minutes for a produce retried after a lost acknowledgement, the
    // late-arrival window for an Idempotency-Key. Messages processing cannot decode are kept.
    sql: `
      CREATE TABLE recent_requests (
        request_id    text PRIMARY KEY,
        log_partition integer NOT NULL,
        base_offset   bigint NOT NULL,
        keep_until    timestamptz NOT NULL
      );
      CREATE INDEX recent_requests_keep_until_idx ON recent_requests (keep_until);
      CREATE TABLE dead_letters (
        log_partition integer NOT NULL,
        log_offset    bigint NOT NULL,
        payload       text,           -- the message value, base64
        reason        text NOT NULL,
        received_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (log_partition, log_offset)
      )
    `,
  },
  {
    version: 5,
    name: 'read and write indexes at scale',
    // One page's or one region's daily series reads its own days instead of the whole date range.
    // The pair tables' secondary indexes become key-only: with views in an INCLUDE column and a
    // unique key they could not deduplicate (~13× the size on region_weekly), every consolidation
    // write landed all over them, and no update of a count could be HOT. Filtered reads of the
    // pair tables fetch the heap rows instead.
    sql: `
      CREATE INDEX by_page_daily_page_idx ON by_page_daily (page_name, period_start) INCLUDE (views);
      CREATE INDEX by_region_daily_region_idx ON by_region_daily (region, period_start) INCLUDE (views);
      ${['daily', 'weekly', 'monthly']
        .map(
          (g) => `
      DROP INDEX region_${g}_region_idx;
      CREATE INDEX region_${g}_region_idx ON region_${g} (region, period_start);
      DROP INDEX region_${g}_page_idx;
      CREATE INDEX region_${g}_page_idx ON region_${g} (page_name, period_start)`,
        )
        .join(';')}
    `,
  },
  {
    version: 6,
    name: 'generated request ids per batch',
    // Processing keeps generated (unkeyed) request ids in memory per partition: a copy of such a
    // request is the same produce sent again to the same partition, so it meets its first copy
    // there. Each recorded batch's first-seen ids are one row here, written in the transaction
    // that moves the partition's position, so a restarted or newly assigned consumer rebuilds the
    // window from the rows of the partition's last minutes. Idempotency-Key requests stay in
    // recent_requests, one row each.
    sql: `
      CREATE TABLE recent_batches (
        log_partition integer NOT NULL,
        recorded_at   timestamptz NOT NULL,
        keep_until    timestamptz NOT NULL,
        requests      text NOT NULL  -- JSON: [id, base offset, id, base offset, ...]
      );
      CREATE INDEX recent_batches_partition_idx ON recent_batches (log_partition, recorded_at)
    `,
  },
  {
    version: 7,
    name: 'imported page views',
    // History brought in by `page-stats import`, kept beside the rollups so every recompute of a
    // day adds it again. A source is one file, known by the SHA-256 of its decompressed content;
    // its rows count only once it is complete, so an import that failed half way counts nothing
    // and is removed when the same file comes again. The integer id keeps each row small (a year
    // of a large site is hundreds of millions of rows). Buckets are UTC quarter hours for events
    // (each belongs to one local day in any time zone) and local midnights for daily counts.
    sql: `
      CREATE TABLE import_sources (
        id          bigserial PRIMARY KEY,
        sha256      text NOT NULL,
        kind        text,           -- events or daily, from the header
        name        text NOT NULL,
        lines       bigint,
        views       bigint,
        complete    boolean NOT NULL DEFAULT false,
        started_at  timestamptz NOT NULL DEFAULT now(),
        touched_at  timestamptz NOT NULL DEFAULT now(),
        imported_at timestamptz
      );
      CREATE UNIQUE INDEX import_sources_complete_idx ON import_sources (sha256) WHERE complete;
      CREATE TABLE imported_views (
        source    bigint NOT NULL,
        bucket    timestamptz NOT NULL,
        region    text COLLATE "C" NOT NULL,
        page_name text COLLATE "C" NOT NULL,
        views     bigint NOT NULL CHECK (views > 0),
        PRIMARY KEY (source, bucket, region, page_name)
      );
      CREATE INDEX imported_views_bucket_idx ON imported_views (bucket)
    `,
  },
  {
    version: 8,
    name: 'quarterly and yearly rollups',
    // A 12-month question read 12–18 monthly, weekly and daily rows per key (70,000 rows for all
    // pages of the large data set, past the stats latency goal); a quarter or a year is one. Every
    // family gets them, filled here from the monthly rows of any history (see long-periods.ts).
    sql: [...longPeriodTables(), ...rebuildStatements()].join(';\n'),
  },
  {
    version: 9,
    name: 'covering primary keys for the stats reads',
    // A 30-day question reads up to 8 daily, weekly and monthly rows per key (40,000 rows for all
    // pages, or all pages of one region, of the large data set); with the counts in the primary
    // key those are index-only scans instead of a heap fetch each: p99 50–57 → 33–38 ms at 4
    // connections. A recompute writes these rows anew anyway, and a fold measured no slower.
    sql: [
      ...['daily', 'weekly', 'monthly'].map(
        (g) => `ALTER TABLE region_${g} DROP CONSTRAINT region_${g}_pkey, ADD PRIMARY KEY (period_start, region, page_name) INCLUDE (views)`,
      ),
      ...['daily', 'weekly', 'monthly'].map(
        (g) => `ALTER TABLE by_page_${g} DROP CONSTRAINT by_page_${g}_pkey, ADD PRIMARY KEY (period_start, page_name) INCLUDE (views)`,
      ),
    ].join(';\n'),
  },
];

// Any constant works; it only has to be the same for every process migrating this database.
const MIGRATION_LOCK = 7_301_355_114;

export async function migrate(db: SqlDatabase): Promise<number[]> {
  return await db.transaction(async (tx) => {
    // Serialises concurrent migrators (several pods starting at once).
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.sql
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean)) {
        await tx.query(statement);
      }
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
