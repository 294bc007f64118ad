/**
 * The little the rollup SQL needs from a database (after pg-boss's `IDatabase`): PostgreSQL
 * through `pg` and PGlite both implement it, so one module of SQL runs on both.
 */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlDatabase extends SqlClient {
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Whether the database answers a query now: the readiness of every store on it. */
export async function answers(db: SqlClient): Promise<boolean> {
  try {
    await db.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
