import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPgliteWorker } from '../../src/adapters/embedded/pglite-worker.js';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { SqlSessionStore } from '../../src/adapters/sessions/sql-session-store.js';
import type { SessionStore } from '../../src/ports/session-store.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { storeName, useSchema } from './isolation.js';

const HOUR = 3_600_000;
const T = Date.parse('2026-05-01T12:00:00Z');

/** The session-store contract, run against every adapter; each test gets a store of its own, named after it. */
function sessionStoreContract(
  name: string,
  open: (testName: string) => Promise<{ store: SessionStore; reopen(): Promise<SessionStore>; dispose(): Promise<void> }>,
): void {
  describe(`SessionStore contract: ${name}`, () => {
    let opened: Awaited<ReturnType<typeof open>>;
    beforeEach(async ({ task }) => {
      opened = await open(task.name);
    });
    afterEach(async () => await opened?.dispose());

    it('a session is active until it expires or is revoked; revoking one leaves the others', async () => {
      const { store } = opened;
      await store.create('a', T + HOUR, T);
      await store.create('b', T + HOUR, T);
      expect(await store.isActive('a', T)).toBe(true);
      expect(await store.isActive('a', T + HOUR - 1)).toBe(true);
      expect(await store.isActive('a', T + HOUR)).toBe(false);
      expect(await store.isActive('never-issued', T)).toBe(false);
      await store.revoke('a');
      await store.revoke('a'); // twice is harmless
      expect(await store.isActive('a', T)).toBe(false);
      expect(await store.isActive('b', T)).toBe(true);
    });

    it('keeps sessions and revocations when opened again (a restart, another replica)', async () => {
      await opened.store.create('kept', T + HOUR, T);
      await opened.store.create('gone', T + HOUR, T);
      await opened.store.revoke('gone');
      const again = await opened.reopen();
      expect(await again.isActive('kept', T)).toBe(true);
      expect(await again.isActive('gone', T)).toBe(false);
    });
  });
}

let embedded: SqlDatabase | undefined;
afterAll(async () => await embedded?.close());

sessionStoreContract('PGlite (in its thread)', async (testName) => {
  embedded ??= await openPgliteWorker(undefined);
  const db = embedded;
  await useSchema(db, `sessions_${storeName(testName)}`);
  return { store: await SqlSessionStore.open(db), reopen: async () => await SqlSessionStore.open(db), dispose: async () => {} };
});

sessionStoreContract('PostgreSQL', async (testName) => {
  const database = await createTestDatabase(`sessions_${storeName(testName, 20)}`);
  const db = openPostgres(database.url);
  // replicas starting at the same moment both create the table
  const [store] = await Promise.all([SqlSessionStore.open(db), SqlSessionStore.open(db), SqlSessionStore.open(db)]);
  return {
    store,
    reopen: async () => await SqlSessionStore.open(db),
    dispose: async () => {
      await db.close();
      await database.drop();
    },
  };
});
