import { randomBytes } from 'node:crypto';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';

/**
 * The name of a test's own database, schema, topic or bucket: the test's name in [a-z0-9_],
 * cut so that it fits PostgreSQL's 63-byte identifiers with a prefix, plus a random tail so that
 * a rerun or another file never meets it.
 */
export function storeName(testName: string, maxLength = 36): string {
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, maxLength);
  return `${slug}_${randomBytes(3).toString('hex')}`;
}

/**
 * Gives a test a schema of its own in an embedded database the file shares. The adapters name
 * their tables without a schema, so they create and find them on the search path; PGlite has a
 * single session, so the SET holds for every later query and transaction until the next test's.
 */
export async function useSchema(db: SqlDatabase, name: string): Promise<void> {
  await db.query(`CREATE SCHEMA "${name}"`);
  await db.query(`SET search_path TO "${name}"`);
}
