import { hostname } from 'node:os';
import { invalidInput } from '../../domain/errors.js';

/**
 * Request ids, unique without coordination and without chance: the host name, the process id and
 * the start time (base 36) name this ingest process among all that run or ran (two live processes
 * never share host and pid; a restart starts at a later millisecond), and a counter names the
 * request within it. Every event of a request carries the id and its index in the request.
 */
export function requestIdSource(instance = `${hostname()}.${process.pid.toString(36)}.${Date.now().toString(36)}`): () => string {
  let next = 0;
  return () => `${instance}.${(next++).toString(36)}`;
}

/** Visible ASCII, as the IETF draft and Stripe allow; long enough for a UUID or a hash. */
const KEY = /^[\x21-\x7e]{1,128}$/;

/**
 * `Idempotency-Key`: a client sending the same key again gets its events counted once. The key is
 * the request's id (prefixed, so it cannot meet a generated one), verbatim: a hash would let two
 * different keys collide, however unlikely.
 */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header) || !KEY.test(header)) {
    throw invalidInput('invalid Idempotency-Key header', ['Idempotency-Key: give it once, 1 to 128 visible ASCII characters (a UUID works)']);
  }
  return `k:${header}`;
}
