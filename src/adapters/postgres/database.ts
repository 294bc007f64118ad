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
