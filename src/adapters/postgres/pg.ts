import pg from 'pg';
import type { SqlClient, SqlDatabase } from './database.js';

/** PostgreSQL through a `pg` pool. */
export function openPostgres(connectionString: string, options: { max?: number } = {}): SqlDatabase & { pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const query: SqlClient['query'] = async <T,>(sql: string, params?: readonly unknown[]) =>
    (await pool.query(sql, params as unknown[])) as unknown as { rows: T[] };
  return {
    pool,
    query,
    transaction: async (work) => {
      const client = await pool.connect();
      // A checked-out client that loses its connection emits 'error' on itself, not on the pool:
      // without a listener that crashes the process. The query in hand fails; the client is dropped.
      let broken: Error | undefined;
      const onError = (err: Error): void => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async <T,>(sql: string, params?: readonly unknown[]) =>
            (await client.query(sql, params as unknown[])) as unknown as { rows: T[] },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    close: async () => await pool.end(),
  };
}
