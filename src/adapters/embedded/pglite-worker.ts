import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { SqlClient, SqlDatabase } from '../postgres/database.js';
import type { ThreadReply, ThreadRequest } from './pglite-protocol.js';

type Pending = { resolve: (reply: ThreadReply & { ok: true }) => void; reject: (err: Error) => void };
type Request = ThreadRequest extends infer R ? (R extends ThreadRequest ? Omit<R, 'id'> : never) : never;

/** An error from the database thread, with PostgreSQL's SQLSTATE `code` as pg gives it. */
export class EmbeddedDatabaseError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail: string | undefined,
  ) {
    super(message);
    this.name = 'EmbeddedDatabaseError';
  }
}

/**
 * PGlite in a worker thread of its own (pglite-thread.mjs), behind the same small SqlDatabase
 * interface as PostgreSQL: queries and transactions travel as messages, rows come back cloned.
 * The main thread stays free for HTTP while the database works.
 */
export async function openPgliteWorker(dataDir: string | undefined): Promise<SqlDatabase> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const worker = new Worker(new URL('./pglite-thread.mjs', import.meta.url), { workerData: { dataDir } });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failure: Error | undefined;

  const failAll = (err: Error): void => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (reply: ThreadReply) => {
    const p = pending.get(reply.id);
    if (p === undefined) return;
    pending.delete(reply.id);
    if (reply.ok) p.resolve(reply);
    else p.reject(new EmbeddedDatabaseError(reply.error.message, reply.error.code, reply.error.detail));
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`the embedded database thread exited (${code})`)));

  // id 0 is the thread's "ready" once PGlite has opened the folder
  await new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });

  const call = (request: Request): Promise<ThreadReply & { ok: true }> => {
    if (failure !== undefined) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  };
  const query =
    (tx: number | undefined): SqlClient['query'] =>
    async <T>(sql: string, params?: readonly unknown[]) => {
      const reply = await call({ op: 'query', sql, params, tx });
      return { rows: (reply.rows ?? []) as T[] };
    };

  return {
    query: query(undefined),
    transaction: async (work) => {
      const { tx } = await call({ op: 'begin' });
      let result: Awaited<ReturnType<typeof work>>;
      try {
        result = await work({ query: query(tx!) });
      } catch (err) {
        await call({ op: 'rollback', tx: tx! }).catch(() => {});
        throw err;
      }
      await call({ op: 'commit', tx: tx! });
      return result;
    },
    close: async () => {
      if (failure === undefined) await call({ op: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}
