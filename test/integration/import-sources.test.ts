// The imported sources on PostgreSQL: only complete sources count in a replace of their days; an
// import of the same content cannot start while another writes it; a partial source that nothing
// writes to any more (an import that died) is removed and the file imported again, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/adapters/postgres/pg.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const DAY = Date.parse('2025-06-10T00:00:00Z');
const window = { start: DAY, end: DAY + 86_400_000, timeZone: 'UTC', weekStart: 1 as const, daily: [], bots: [] };
const counts = [
  { bucket: DAY + 3_600_000, region: 'DE', pageName: '/', views: 2 },
  { bucket: DAY + 7_200_000, region: 'DE', pageName: '/', views: 3 },
];

describe('imported sources (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: ReturnType<typeof openPostgres>;
  let store: SqlRollupStore;
  const dayViews = async () => (await store.query({ granularity: 'daily', start: window.start, end: window.end })).reduce((n, r) => n + r.views, 0);

  beforeAll(async () => {
    database = await createTestDatabase('import_sources');
    db = openPostgres(database.url);
    store = new SqlRollupStore(db);
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('counts a source only once it is complete, and a crashed one is redone once', async () => {
    const first = await store.beginImport({ sha256: 'a'.repeat(64), name: 'history.csv' });
    expect(first.status).toBe('started');
    if (first.status !== 'started') return;
    await store.addImported(first.id, counts);
    await store.addImported(first.id, counts.slice(0, 1)); // the same key again adds up
    await store.replaceWindow(window);
    expect(await dayViews()).toBe(0); // not complete: not counted

    // Another import of the same content while this one writes: refused.
    expect((await store.beginImport({ sha256: 'a'.repeat(64), name: 'again.csv' })).status).toBe('in progress');

    // The first import dies; its source is last written to long ago.
    await db.query(`UPDATE import_sources SET touched_at = now() - interval '1 hour' WHERE id = $1`, [first.id]);
    const redo = await store.beginImport({ sha256: 'a'.repeat(64), name: 'history.csv' });
    expect(redo.status).toBe('started');
    if (redo.status !== 'started') return;
    expect((await db.query('SELECT count(*)::int AS n FROM imported_views WHERE source = $1', [first.id])).rows[0]).toEqual({ n: 0 });
    await store.addImported(redo.id, counts);
    expect(await store.completeImport(redo.id, { kind: 'events', lines: 5, views: 5 })).toEqual({ first: counts[0]!.bucket, last: counts[1]!.bucket });
    await store.replaceWindow(window);
    expect(await dayViews()).toBe(5);

    const done = await store.beginImport({ sha256: 'a'.repeat(64), name: 'history.csv' });
    expect(done.status).toBe('already imported');
  });

  it('an abandoned source leaves nothing behind', async () => {
    const s = await store.beginImport({ sha256: 'b'.repeat(64), name: 'refused.csv' });
    if (s.status !== 'started') throw new Error(s.status);
    await store.addImported(s.id, counts);
    await store.abandonImport(s.id);
    expect((await db.query('SELECT count(*)::int AS n FROM imported_views WHERE source = $1', [s.id])).rows[0]).toEqual({ n: 0 });
    expect((await store.beginImport({ sha256: 'b'.repeat(64), name: 'refused.csv' })).status).toBe('started');
  });
});
