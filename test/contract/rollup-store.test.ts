import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/adapters/postgres/migrations.js';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import { decomposeDays } from '../../src/domain/periods.js';
import { createTemplateDatabase, createTestDatabase } from '../helpers/postgres.js';
import { storeName, useSchema } from './isolation.js';
import { rollupStoreContract } from './rollup-store.contract.js';

// One server per adapter for the file; each test gets a migrated schema or database of its own.
let pglite: Awaited<ReturnType<typeof openPglite>> | undefined;
let template: Awaited<ReturnType<typeof createTemplateDatabase>> | undefined;
afterAll(async () => {
  await pglite?.close();
  await template?.drop();
});

rollupStoreContract('PGlite', async (testName) => {
  pglite ??= await openPglite(undefined);
  await useSchema(pglite, `rollup_${storeName(testName)}`);
  const store = new SqlRollupStore(pglite);
  await store.migrate();
  return { store, dispose: async () => {} };
});

rollupStoreContract('PostgreSQL', async (testName) => {
  template ??= await createTemplateDatabase('rollup', async (url) => {
    const migrating = new SqlRollupStore(openPostgres(url));
    await migrating.migrate();
    await migrating.close();
  });
  const database = await template.copy(`rollup_${storeName(testName)}`);
  const store = new SqlRollupStore(openPostgres(database.url));
  return {
    store,
    dispose: async () => {
      await store.close();
      await database.drop();
    },
  };
});

describe('migrations 2 and 8 on a database with history', () => {
  it.each(['PGlite', 'PostgreSQL'])('%s: the summed rollups are built from the existing rows, and stats answer from them', async (kind) => {
    const database = kind === 'PostgreSQL' ? await createTestDatabase('rollup_upgrade') : undefined;
    const db = database === undefined ? await openPglite(undefined) : openPostgres(database.url);
    try {
      // A release-1 database: its tables, its schema_migrations row, a week of rows.
      await db.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const statement of MIGRATIONS[0]!.sql
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean))
        await db.query(statement);
      await db.query("INSERT INTO schema_migrations (version, name) VALUES (1, 'rollup tables')");
      for (const [g, start, end] of [
        ['daily', '2026-03-02', '2026-03-03'],
        ['weekly', '2026-03-02', '2026-03-09'],
        ['monthly', '2026-03-01', '2026-04-01'],
      ] as const) {
        await db.query(
          `INSERT INTO region_${g} (period_start, period_end, region, page_name, views)
           VALUES ($1, $2, 'DE', '/a', 5), ($1, $2, 'US', '/a', 2), ($1, $2, 'US', '/b', 1)`,
          [`${start}T00:00:00Z`, `${end}T00:00:00Z`],
        );
      }
      // April in Berlin: it starts at 22:00 UTC on 31 March, and belongs to the second quarter.
      await db.query(
        `INSERT INTO region_monthly (period_start, period_end, region, page_name, views) VALUES ('2026-03-31T22:00:00Z', '2026-04-30T22:00:00Z', 'DE', '/c', 4)`,
      );
      const store = new SqlRollupStore(db);
      await store.migrate();
      // Migration 8 built the quarters and years from the monthly rows, each month in its local quarter.
      const pieces = { years: [], quarters: [], months: [], weeks: [], days: [] };
      expect(await store.views({ ...pieces, years: ['2026-01-01'] }, {})).toBe(12);
      expect(await store.views({ ...pieces, quarters: ['2026-01-01'] }, {})).toBe(8);
      expect(await store.breakdown({ by: 'page', pieces: { ...pieces, quarters: ['2026-04-01'] }, filter: { region: 'DE' }, limit: 10, offset: 0 })).toEqual({
        total: 4,
        distinct: 1,
        rows: [{ key: '/c', views: 4 }],
      });
      const march = decomposeDays({ start: Date.parse('2026-03-01T00:00:00Z'), end: Date.parse('2026-04-01T00:00:00Z') }, 'UTC', 1);
      expect(march.months).toHaveLength(1);
      expect(await store.views(march, {})).toBe(8);
      expect(await store.breakdown({ by: 'region', pieces: march, filter: {}, limit: 10, offset: 0 })).toEqual({
        total: 8,
        distinct: 2,
        rows: [
          { key: 'DE', views: 5 },
          { key: 'US', views: 3 },
        ],
      });
      const week = decomposeDays({ start: Date.parse('2026-03-02T00:00:00Z'), end: Date.parse('2026-03-09T00:00:00Z') }, 'UTC', 1);
      expect(week.weeks).toHaveLength(1);
      expect(await store.views(week, { pageName: '/a' })).toBe(7);
      expect(await store.regions()).toEqual(['DE', 'US']);
    } finally {
      await db.close();
      await database?.drop();
    }
  });
});
