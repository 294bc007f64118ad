import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SqlDatabase } from './database.js';

/** PGlite (PostgreSQL in WASM) in a folder, or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir: string | undefined): Promise<SqlDatabase & { pglite: PGlite }> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  return {
    pglite,
    query: async (sql, params) => await pglite.query(sql, params as unknown[]),
    transaction: async (work) => await pglite.transaction(async (tx) => await work({ query: async (sql, params) => await tx.query(sql, params as unknown[]) })),
    close: async () => {
      if (!pglite.closed) await pglite.close();
    },
  };
}
