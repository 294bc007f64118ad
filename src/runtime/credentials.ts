import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionStore } from '../ports/session-store.js';
import { deriveSessionSecret, hashPassword, sha256, type CredentialHashes } from '../services/admin-api/auth.js';

const FILE = 'admin-credentials.json';

interface StoredCredentials {
  passwordHash: string;
  tokenHash: string;
  sessionSecret: string;
}

/**
 * Admin credentials: from ADMIN_PASSWORD / ADMIN_TOKEN when either is set. When neither is set and
 * a data folder exists (embedded mode), generated once, stored hashed in DATA_DIR, and returned in
 * `generated` so the caller prints them once.
 */
export async function resolveCredentials(options: {
  password: string | undefined;
  token: string | undefined;
  dataDir: string | undefined;
  sessions: SessionStore;
}): Promise<{ hashes: CredentialHashes; generated?: { password: string; token: string; file: string } }> {
  const { password, token, dataDir, sessions } = options;
  if (password !== undefined || token !== undefined || dataDir === undefined) {
    return {
      hashes: {
        passwordHash: password === undefined ? undefined : await hashPassword(password),
        tokenHash: token === undefined ? undefined : sha256(token),
        sessionSecret: await deriveSessionSecret(password, token),
        sessions,
      },
    };
  }
  const file = join(dataDir, FILE);
  const stored = readStored(file);
  if (stored !== undefined) {
    return {
      hashes: {
        passwordHash: stored.passwordHash,
        tokenHash: stored.tokenHash,
        sessionSecret: Buffer.from(stored.sessionSecret, 'hex'),
        sessions,
      },
    };
  }
  const generated = { password: randomBytes(12).toString('base64url'), token: randomBytes(24).toString('base64url'), file };
  const fresh: StoredCredentials = {
    passwordHash: await hashPassword(generated.password),
    tokenHash: sha256(generated.token),
    sessionSecret: randomBytes(32).toString('hex'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return {
    hashes: { passwordHash: fresh.passwordHash, tokenHash: fresh.tokenHash, sessionSecret: Buffer.from(fresh.sessionSecret, 'hex'), sessions },
    generated,
  };
}

function readStored(file: string): StoredCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<StoredCredentials>;
  if (typeof parsed.passwordHash !== 'string' || typeof parsed.tokenHash !== 'string' || typeof parsed.sessionSecret !== 'string') {
    throw new Error(`${file} is damaged: delete it to generate new admin credentials`);
  }
  return parsed as StoredCredentials;
}
