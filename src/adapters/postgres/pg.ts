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
        client.release();
      }
    },
    close: async () => await pool.end(),
  };
}
