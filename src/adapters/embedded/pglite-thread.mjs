// @ts-check
// The embedded database's own thread. JavaScript (type-checked through JSDoc) rather than
// TypeScript: Node 20 applies no loader hooks in worker threads, so this file must run as it is
// both from the sources (tests, `npm run dev`) and from dist/.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** @typedef {import('./pglite-protocol.js').ThreadRequest} ThreadRequest */
/** @typedef {import('./pglite-protocol.js').ThreadReply} ThreadReply */
/** @typedef {import('@electric-sql/pglite').Transaction} Transaction */
/** @typedef {{ tx: Transaction; finish: (commit: boolean) => void; ended: Promise<unknown> }} OpenTransaction */

/*
 * PGlite runs WebAssembly synchronously: on the main thread a consolidation or a large query
 * would stall every request, /healthz included, for its whole duration. Here it only occupies
 * this thread. A transaction stays open across messages until its commit or rollback arrives;
 * PGlite itself queues other queries behind it, as it does on one thread.
 */
if (parentPort === null) throw new Error('pglite-thread runs as a worker thread');
const port = parentPort;
const { dataDir } = /** @type {{ dataDir: string | undefined }} */ (workerData);
const pglite = await PGlite.create(dataDir);
/** @type {Map<number, OpenTransaction>} */
const transactions = new Map();

/** @param {ThreadReply} message */
const reply = (message) => port.postMessage(message);

port.on('message', (/** @type {ThreadRequest} */ request) => {
  handle(request).then(
    (result) => reply({ id: request.id, ok: true, ...result }),
    (/** @type {{ message?: string; code?: string; detail?: string }} */ err) =>
      reply({
        id: request.id,
        ok: false,
        error: { message: err.message ?? String(err), ...(err.code ? { code: err.code } : {}), ...(err.detail ? { detail: err.detail } : {}) },
      }),
  );
});

/**
 * @param {ThreadRequest} request
 * @returns {Promise<{ rows?: unknown[]; tx?: number }>}
 */
async function handle(request) {
  switch (request.op) {
    case 'query': {
      const target = request.tx === undefined ? pglite : transactions.get(request.tx)?.tx;
      if (target === undefined) throw new Error('the transaction has ended');
      const { rows } = await target.query(request.sql, /** @type {unknown[] | undefined} */ (request.params));
      return { rows };
    }
    case 'begin':
      return { tx: await begin(request.id) };
    case 'commit':
    case 'rollback': {
      const open = transactions.get(request.tx);
      if (open === undefined) throw new Error('the transaction has ended');
      transactions.delete(request.tx);
      open.finish(request.op === 'commit');
      await open.ended;
      return {};
    }
    case 'close':
      if (!pglite.closed) await pglite.close();
      setImmediate(() => port.close());
      return {};
  }
}

/**
 * Opens a transaction that stays open until its commit or rollback message arrives.
 * @param {number} txId
 * @returns {Promise<number>}
 */
function begin(txId) {
  return new Promise((resolve, reject) => {
    /** @type {(commit: boolean) => void} */
    let finish = () => {};
    /** @type {Promise<boolean>} */
    const decided = new Promise((r) => (finish = r));
    const ended = pglite.transaction(async (tx) => {
      transactions.set(txId, { tx, finish, ended });
      resolve(txId);
      if (!(await decided)) await tx.rollback();
    });
    // A failed BEGIN rejects the begin; a failed COMMIT is reported to the commit message.
    ended.catch((err) => {
      if (!transactions.has(txId)) return;
      transactions.delete(txId);
      reject(err);
    });
  });
}

reply({ id: 0, ok: true });
