import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import { rollupStoreContract } from './rollup-store.contract.js';

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database of its own for a test, dropped afterwards. */
export async function createTestDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `page_stats_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

rollupStoreContract('PGlite', async () => {
  const db = await openPglite(undefined);
  return { store: new SqlRollupStore(db), dispose: async () => await db.close() };
});

rollupStoreContract('PostgreSQL', async () => {
  const database = await createTestDatabase('rollup');
  const store = new SqlRollupStore(openPostgres(database.url));
  return {
    store,
    dispose: async () => {
      await store.close();
      await database.drop();
    },
  };
});
