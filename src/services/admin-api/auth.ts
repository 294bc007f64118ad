import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/** What the server keeps to check admin credentials: hashes, never the secrets themselves. */
export interface CredentialHashes {
  /** `scrypt$N$r$p$<salt b64>$<hash b64>` */
  passwordHash: string | undefined;
  /** sha256 of the bearer token (a long random token needs no slow KDF) */
  tokenHash: string | undefined;
  /** key for signing session cookies */
  sessionSecret: Buffer;
  /** sha256 of the token this process gives commands on the same machine (embedded mode) */
  localTokenHash?: string | undefined;
}

const KDF = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, KDF);
  return `scrypt$${KDF.N}$${KDF.r}$${KDF.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: KDF.maxmem,
  } as typeof KDF);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function verifyToken(token: string, tokenHash: string): boolean {
  // Comparing fixed-length digests keeps the comparison timing-safe whatever the input length.
  const a = Buffer.from(sha256(token), 'hex');
  const b = Buffer.from(tokenHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Session cookies are stateless and signed: `<expiry ms>.<nonce>.<hmac>`, so any replica can check them. */
export function issueSession(secret: Buffer, now: number, ttlMs: number): string {
  const body = `${now + ttlMs}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${sign(secret, body)}`;
}

export function verifySession(secret: Buffer, cookie: string, now: number): boolean {
  const cut = cookie.lastIndexOf('.');
  if (cut <= 0) return false;
  const body = cookie.slice(0, cut);
  const given = Buffer.from(cookie.slice(cut + 1));
  const expected = Buffer.from(sign(secret, body));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const expiry = Number(body.split('.')[0]);
  return Number.isFinite(expiry) && expiry > now;
}

function sign(secret: Buffer, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

/** A session key every replica derives alike from the configured secrets, slowly, so it is no shortcut to them. */
export async function deriveSessionSecret(password: string | undefined, token: string | undefined): Promise<Buffer> {
  return await scrypt(`${password ?? ''}\u0000${token ?? ''}`, Buffer.from('page-stats session key v1'), 32, KDF);
}
