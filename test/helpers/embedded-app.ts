import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import type { Clock } from '../../src/ports/clock.js';
import { composeApp, type RunningApp } from '../../src/runtime/composition.js';
import { loadConfig } from '../../src/runtime/config.js';
import { createLogger } from '../../src/runtime/logger.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const ADMIN_PASSWORD = 'correct horse battery staple';
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

export interface TestApp {
  app: RunningApp;
  url: string;
  dataDir: string;
  /** GET an admin endpoint with the bearer token; returns status and parsed JSON */
  get(path: string): Promise<{ status: number; body: any }>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** a clock the test moves (sessions, expiry); the system clock otherwise */
  clock?: Clock;
  /** reuse this DATA_DIR (a restart); it is then left in place by close() */
  dataDir?: string;
}

/** The whole embedded pipeline in this process, on a free port and a fresh DATA_DIR. */
export async function startEmbeddedApp(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'page-stats-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    ADMIN_PASSWORD,
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const app = await composeApp(config, {
    roles: new Set(['ingest', 'processing', 'consolidator', 'admin']),
    logger: createLogger(config.logLevel),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const url = app.url;
  return {
    app,
    url,
    dataDir,
    async get(path) {
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      return { status: res.status, body: await res.json() };
    },
    async post(path, body, headers = {}) {
      const res = await fetch(url + path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'user-agent': BROWSER_UA,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
    },
    async close() {
      await app.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Posts events as a browser would, in batches of at most 100; returns how many were acknowledged. */
export async function postEvents(url: string, events: readonly object[], batch = 100): Promise<number> {
  let acknowledged = 0;
  for (let i = 0; i < events.length; i += batch) {
    const chunk = events.slice(i, i + batch);
    const res = await fetch(`${url}/page-view`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
      body: JSON.stringify(chunk),
    });
    if (res.status !== 202) throw new Error(`POST /page-view answered ${res.status}: ${await res.text()}`);
    acknowledged += chunk.length;
  }
  return acknowledged;
}

/** Waits until processing has stored `expected` events (page views and bots) since `from`. */
export async function waitForProcessed(app: RunningApp, from: number, to: number, expected: number): Promise<void> {
  const store = app.eventStore!;
  await vi.waitFor(
    async () => {
      const views = (await store.dailyCounts(from, to, 'UTC')).reduce((n, c) => n + c.views, 0);
      const bots = (await store.dailyBotCounts(from, to, 'UTC')).reduce((n, c) => n + c.hits, 0);
      if (views + bots < expected) throw new Error(`processing stored ${views + bots} of ${expected} events`);
    },
    { timeout: 60_000, interval: 100 },
  );
}
