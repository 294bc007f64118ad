import pg from 'pg';
import type { SqlClient, SqlDatabase } from './database.js';

/**
 * Session settings for the rollup store's connections. JIT compiles any plan costed above 100,000
 * (a raw row page, a 60,000-row aggregation): 4–27 ms of compiling in a 17–55 ms query. Parallel
 * workers for such a query take cores from the requests running beside it.
 */
export const ROLLUP_SESSION = '-c jit=off -c max_parallel_workers_per_gather=0';

/** PostgreSQL through a `pg` pool; `settings` are passed at connection as server options (`-c name=value`). */
export function openPostgres(connectionString: string, options: { max?: number; settings?: string } = {}): SqlDatabase & { pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...(options.settings === undefined ? {} : { options: options.settings }),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const query: SqlClient['query'] = async (sql, params) => ({ rows: (await pool.query(sql, values(params))).rows });
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
          query: async (sql, params) => ({ rows: (await client.query(sql, values(params))).rows }),
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

/** pg takes a mutable array of values. */
const values = (params: readonly unknown[] | undefined): unknown[] | undefined => (params === undefined ? undefined : [...params]);
