import Fastify from 'fastify';
import pg from 'pg';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { openPostgres, ROLLUP_SESSION } from '../../src/adapters/postgres/pg.js';
import { SqlRollupStore } from '../../src/adapters/postgres/rollup-store.js';
import type { WeekStart } from '../../src/domain/periods.js';
import type { RollupQuery } from '../../src/ports/rollup-store.js';
import { statsRoutes } from '../../src/services/admin-api/stats-routes.js';
import { now } from './stats.js';

export interface Statement {
  sql: string;
  params: readonly unknown[];
}

export interface CapturedRequest {
  /** path and query, as the dashboard sends it */
  path: string;
  /** the SQL the rollup store sent for it, in order (the summary sends five at once) */
  statements: Statement[];
  /** the JSON body the route answered with, to check the server answers the same */
  body: string;
}

/** A SqlDatabase that records every statement it passes on. */
function recording(real: SqlDatabase, seen: Statement[]): SqlDatabase {
  return {
    query: async (sql, params) => {
      seen.push({ sql, params: params ?? [] });
      return await real.query(sql, params);
    },
    transaction: (work) => real.transaction(work),
    close: () => real.close(),
  };
}

/**
 * The SQL behind stats requests, captured from the product's own routes and store: the stats
 * routes in this process on a store that records its statements, each request injected once.
 * Same report zone and week start as the server under test (UTC, Monday).
 */
export async function captureStatsSql(databaseUrl: string, paths: readonly string[], timezone = 'UTC', weekStart: WeekStart = 1): Promise<CapturedRequest[]> {
  const real = openPostgres(databaseUrl, { max: 10 });
  const seen: Statement[] = [];
  const app = Fastify();
  await app.register(statsRoutes, { rollups: new SqlRollupStore(recording(real, seen)), now: () => Date.now(), timezone, weekStart });
  try {
    const captured: CapturedRequest[] = [];
    for (const path of paths) {
      seen.length = 0;
      const res = await app.inject({ method: 'GET', url: path });
      if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode} in process: ${res.body.slice(0, 300)}`);
      captured.push({ path, statements: [...seen], body: res.body });
    }
    return captured;
  } finally {
    await app.close();
    await real.close();
  }
}

/** The SQL and parameters the rollup store sends for a raw-row query. */
export async function capturedRowSql(databaseUrl: string, q: RollupQuery): Promise<Statement> {
  const real = openPostgres(databaseUrl, { max: 1 });
  const seen: Statement[] = [];
  const store = new SqlRollupStore(recording(real, seen));
  try {
    await store.query(q);
    const first = seen[0];
    if (first === undefined) throw new Error('the rollup store sent no SQL');
    return first;
  } finally {
    await store.close();
  }
}

/**
 * Baseline: a request's statements alone through `pg`, as the server issues them (all of one
 * request at once), `connections` clients in a loop on a pool of the server's size; latency of each.
 */
export async function sqlLoad(databaseUrl: string, statements: readonly Statement[], connections: number, seconds: number): Promise<number[]> {
  // The rollup store's own session settings, so both sides plan the statements alike.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, options: ROLLUP_SESSION });
  const latencies: number[] = [];
  const until = now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (now() < until) {
          const t0 = now();
          await Promise.all(statements.map((s) => pool.query(s.sql, s.params as unknown[])));
          latencies.push(now() - t0);
        }
      }),
    );
  } finally {
    await pool.end();
  }
  return latencies;
}

/** `EXPLAIN (ANALYZE, BUFFERS)` of a statement with its parameters, as text. */
export async function explain(databaseUrl: string, s: Statement): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl, options: ROLLUP_SESSION });
  await client.connect();
  try {
    // Once unmeasured, so the plan shows the steady state (pages in shared buffers), not a cold read.
    await client.query(s.sql, s.params as unknown[]);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, s.params as unknown[]);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.end();
  }
}
