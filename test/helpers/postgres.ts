import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function asAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** `name` must be a plain identifier ([a-z0-9_]): it is written into the statement. */
async function createDatabase(name: string, template?: string): Promise<TestDatabase> {
  await asAdmin(`CREATE DATABASE ${name}${template === undefined ? '' : ` TEMPLATE ${template}`}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => await asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A database of its own for a test, dropped afterwards. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  return await createDatabase(`page_stats_${label}_${randomBytes(4).toString('hex')}`);
}

/**
 * A database prepared once (e.g. migrated) that each test copies: `CREATE DATABASE … TEMPLATE`
 * costs a fraction of running the migrations again. `prepare` must close its connections, since
 * PostgreSQL copies no template that someone is connected to.
 */
export async function createTemplateDatabase(
  label: string,
  prepare: (url: string) => Promise<void>,
): Promise<{ copy(name: string): Promise<TestDatabase>; drop(): Promise<void> }> {
  const template = await createTestDatabase(`${label}_template`);
  await prepare(template.url);
  const name = new URL(template.url).pathname.slice(1);
  return { copy: async (copyName) => await createDatabase(copyName, name), drop: template.drop };
}
