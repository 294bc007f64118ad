import pg from 'pg';

/** One connection for bulk work, in UTC (dates in generated SQL are UTC days). */
export async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET TimeZone = 'UTC'`);
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface SavedIndex {
  table: string;
  name: string;
  kind: 'constraint' | 'index';
  def: string;
}

/** The indexes of `tables` (with the primary keys when asked), as statements that recreate them. */
export async function tableIndexes(url: string, tables: string[], withPrimary: boolean): Promise<SavedIndex[]> {
  return await withClient(url, async (c) => {
    const { rows } = await c.query<{ tbl: string; name: string; primary: boolean; def: string; cdef: string | null; cname: string | null }>(
      `SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS name, i.indisprimary AS primary,
              pg_get_indexdef(i.indexrelid) AS def, pg_get_constraintdef(con.oid) AS cdef, con.conname AS cname
       FROM pg_index i LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'p'
       WHERE i.indrelid = ANY ($1::regclass[]) AND (NOT i.indisprimary OR $2::boolean)`,
      [tables, withPrimary],
    );
    return rows.map((r) =>
      r.cdef !== null && r.cname !== null
        ? { table: r.tbl, name: r.cname, kind: 'constraint' as const, def: `ALTER TABLE ${r.tbl} ADD CONSTRAINT ${r.cname} ${r.cdef}` }
        : { table: r.tbl, name: r.name, kind: 'index' as const, def: r.def },
    );
  });
}

export async function dropIndexes(url: string, indexes: readonly SavedIndex[]): Promise<void> {
  await withClient(url, async (c) => {
    for (const i of indexes) await c.query(i.kind === 'constraint' ? `ALTER TABLE ${i.table} DROP CONSTRAINT ${i.name}` : `DROP INDEX ${i.name}`);
  });
}

export async function restoreIndexes(url: string, indexes: readonly SavedIndex[]): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(`SET maintenance_work_mem = '1GB'`);
    for (const i of indexes) await c.query(i.def);
  });
}
