import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { SessionStore } from '../../ports/session-store.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/** What the server keeps to check admin credentials: hashes, never the secrets themselves. */
export interface CredentialHashes {
  /** `scrypt$N$r$p$<salt b64>$<hash b64>` */
  passwordHash: string | undefined;
  /** sha256 of the bearer token (a long random token needs no slow KDF) */
  tokenHash: string | undefined;
  /** key for signing session cookies: derived from the credentials, so changing them ends every session */
  sessionSecret: Buffer;
  /** the sessions the server issued and has not taken back (logout) */
  sessions: SessionStore;
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

export interface SessionTicket {
  /** sha256 of the cookie's random id: what the session store keeps */
  idHash: string;
  expiresAt: number;
}

/**
 * Session cookies are signed, `<expiry ms>.<id>.<hmac>`: a forged or tampered cookie is refused
 * without a lookup, and the id names the server-side session that logout deletes.
 */
export function issueSession(secret: Buffer, now: number, ttlMs: number): SessionTicket & { cookie: string } {
  const id = randomBytes(18).toString('base64url');
  const body = `${now + ttlMs}.${id}`;
  return { cookie: `${body}.${sign(secret, body)}`, idHash: sha256(id), expiresAt: now + ttlMs };
}

/** The session a cookie names, when its signature is right and it has not expired. */
export function readSession(secret: Buffer, cookie: string, now: number): SessionTicket | undefined {
  const cut = cookie.lastIndexOf('.');
  if (cut <= 0) return undefined;
  const body = cookie.slice(0, cut);
  const given = Buffer.from(cookie.slice(cut + 1));
  const expected = Buffer.from(sign(secret, body));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const [expiry, id, ...rest] = body.split('.');
  const expiresAt = Number(expiry);
  if (id === undefined || id === '' || rest.length > 0 || !Number.isFinite(expiresAt) || expiresAt <= now) return undefined;
  return { idHash: sha256(id), expiresAt };
}

/** A signed, unexpired cookie whose session the server still holds. */
export async function verifySession(hashes: CredentialHashes, cookie: string, now: number): Promise<boolean> {
  const ticket = readSession(hashes.sessionSecret, cookie, now);
  return ticket !== undefined && (await hashes.sessions.isActive(ticket.idHash, now));
}

function sign(secret: Buffer, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

/** A session key every replica derives alike from the configured secrets, slowly, so it is no shortcut to them. */
export async function deriveSessionSecret(password: string | undefined, token: string | undefined): Promise<Buffer> {
  return await scrypt(`${password ?? ''}\u0000${token ?? ''}`, Buffer.from('page-stats session key v1'), 32, KDF);
}
