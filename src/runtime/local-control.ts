import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './data-dir-lock.js';

/**
 * Commands on the same machine reach a running embedded server through its HTTP API: the
 * embedded database belongs to that one process. The server leaves its address and a token of
 * its own (valid while it runs) in DATA_DIR, readable by its owner only, like the database itself.
 */
const FILE = 'control.json';

interface Control {
  pid: number;
  url: string;
  token: string;
}

export function newLocalToken(): string {
  return randomBytes(24).toString('base64url');
}

export function publishControl(dataDir: string, url: string, token: string): () => void {
  const file = join(dataDir, FILE);
  writeFileSync(file, JSON.stringify({ pid: process.pid, url, token } satisfies Control), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** The running server on this DATA_DIR, if there is one. */
export function findRunningServer(dataDir: string): Control | undefined {
  try {
    const control = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as Control;
    return isAlive(control.pid) ? control : undefined;
  } catch {
    return undefined;
  }
}
