/** Messages between the main thread (pglite-worker.ts) and the database thread (pglite-thread.mjs). */
export type ThreadRequest =
  | { id: number; op: 'query'; sql: string; params: readonly unknown[] | undefined; tx: number | undefined }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'close' };

/** `id` 0 is the thread's own "ready" once the database is open. */
export type ThreadReply =
  | { id: number; ok: true; rows?: unknown[]; tx?: number }
  | { id: number; ok: false; error: { message: string; code?: string; detail?: string } };
