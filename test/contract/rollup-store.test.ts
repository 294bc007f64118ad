import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { rollupStoreContract } from './rollup-store.contract.js';

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
