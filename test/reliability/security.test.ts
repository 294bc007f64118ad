import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_TOKEN, BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';
import { CLI, ROOT, runCli, waitForHttp } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_ONLY: Array<[string, string]> = [
  ['GET', '/aggregated-data/region-daily'],
  ['GET', '/aggregated-data/region-weekly'],
  ['GET', '/aggregated-data/region-monthly'],
  ['GET', '/aggregated-data/regions'],
  ['GET', '/aggregated-data/bots'],
  ['GET', '/aggregated-data/realtime'],
  ['POST', '/admin/consolidate'],
  ['GET', '/metrics'],
];
const SITE = 'https://site.example';
const HOUR = 3_600_000;

let visitor = 0;
/** A sign-in; each from an address of its own (behind the trusted proxy) unless the test says otherwise, so the login rate limit stays out of the way. */
const login = (url: string, password: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${++visitor % 250}`, ...headers },
    body: JSON.stringify({ password }),
  });

/** Signs in and returns the `name=value` of the session cookie. */
async function signIn(url: string, password = ADMIN_PASSWORD): Promise<string> {
  const res = await login(url, password);
  expect(res.status).toBe(204);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

const asAdmin = (url: string, cookie: string): Promise<number> => fetch(`${url}/aggregated-data/regions`, { headers: { cookie } }).then((r) => r.status);

/** A clock the tests move forward instead of sleeping. */
function testClock(): { now(): number; advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

describe('security', () => {
  let t: TestApp;
  const clock = testClock();
  beforeAll(async () => {
    // TRUST_PROXY=1 is what docker-compose.yml and the Kubernetes manifests ship.
    t = await startEmbeddedApp({ ALLOWED_ORIGINS: `${SITE}/`, TRUST_PROXY: '1', SESSION_TTL: '1h' }, { clock });
  });
  afterAll(async () => await t?.close());

  it.each(ADMIN_ONLY)('%s %s answers 401 without credentials, with a wrong token, with a forged cookie', async (method, path) => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      { cookie: 'page_stats_session=9999999999999.x.forged' },
    ];
    for (const headers of attempts) {
      const res = await fetch(t.url + path, { method, headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect((await res.json()).error).toMatch(/authentication required|invalid bearer token/);
    }
    const ok = await fetch(t.url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  it('the session cookie is HttpOnly, SameSite=Strict, Secure behind TLS (X-Forwarded-Proto from a trusted hop), and expires', async () => {
    const res = await login(t.url, ADMIN_PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(204);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^page_stats_session=/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; Path=\//i);
    const session = cookie.split(';')[0]!;
    expect((await fetch(`${t.url}/aggregated-data/regions`, { headers: { cookie: session } })).status).toBe(200);
    const tampered = session.replace(/^(page_stats_session=)(\d)/, (_, name: string, d: string) => `${name}${(Number(d) + 1) % 10}`);
    expect((await fetch(`${t.url}/aggregated-data/regions`, { headers: { cookie: tampered } })).status).toBe(401);
    expect((await login(t.url, ADMIN_PASSWORD)).headers.get('set-cookie')).not.toMatch(/; Secure/i);
    clock.advance(HOUR - 60_000);
    expect(await asAdmin(t.url, session)).toBe(200);
    clock.advance(61_000);
    expect(await asAdmin(t.url, session)).toBe(401);
  });

  it('logout revokes the session on the server: the old cookie gets 401 afterwards', async () => {
    const session = await signIn(t.url);
    const other = await signIn(t.url);
    expect(await asAdmin(t.url, session)).toBe(200);
    const out = await fetch(`${t.url}/api/logout`, { method: 'POST', headers: { cookie: session } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^page_stats_session=;/);
    // a copy of the cookie kept by the browser (or someone else) no longer works
    expect(await asAdmin(t.url, session)).toBe(401);
    expect(await (await fetch(`${t.url}/api/session`, { headers: { cookie: session } })).json()).toEqual({ authenticated: false });
    // other sessions stay signed in
    expect(await asAdmin(t.url, other)).toBe(200);
  });

  it('the client address is the rightmost X-Forwarded-For entry with TRUST_PROXY=1: a forged left entry changes nothing', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await login(t.url, `guess-${i}`, { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.77` })).status);
    }
    expect(statuses.at(-1)).toBe(429);
  });

  it('login is rate-limited', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login(t.url, `guess-${i}`, { 'x-forwarded-for': '203.0.113.9' })).status);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(8);
    expect(statuses.slice(-2)).toEqual([429, 429]);
    // another address is not blocked by it
    expect((await login(t.url, ADMIN_PASSWORD, { 'x-forwarded-for': '203.0.113.10' })).status).toBe(204);
  });

  it('CORS only for ALLOWED_ORIGINS, and only on /page-view', async () => {
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${t.url}/page-view`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight(SITE);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SITE);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const post = (origin: string): Promise<Response> =>
      fetch(`${t.url}/page-view`, {
        method: 'POST',
        headers: { origin, 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: '{"pageName":"/cors"}',
      });
    expect((await post(SITE)).status).toBe(202);
    const refused = await post('https://evil.example');
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatch(/ALLOWED_ORIGINS/);
    const admin = await fetch(`${t.url}/aggregated-data/regions`, { headers: { origin: SITE, authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('CSRF: a cross-site or other-origin request with the session cookie gets 403; the dashboard and bearer scripts keep working', async () => {
    const session = await signIn(t.url);
    const post = (path: string, headers: Record<string, string>) => fetch(t.url + path, { method: 'POST', headers: { cookie: session, ...headers } });
    const attacks: Array<[string, Record<string, string>]> = [
      ['/admin/consolidate', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
      // another port of the same host: same-site for SameSite cookies, not same-origin
      ['/admin/consolidate', { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' }],
      ['/admin/consolidate', { origin: 'http://127.0.0.1:1' }], // a browser without Sec-Fetch-Site
      ['/admin/consolidate', { origin: 'null' }], // a sandboxed frame or a data: page
      ['/api/logout', { 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [path, headers] of attacks) {
      const res = await post(path, headers);
      expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
      expect((await res.json()).error).toMatch(/^cross-origin request refused: admin actions must come from the dashboard's own origin/);
    }
    // the session survived the forged logout
    expect(await asAdmin(t.url, session)).toBe(200);
    // a cross-site sign-in (login CSRF) is refused too
    expect((await login(t.url, ADMIN_PASSWORD, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // the dashboard itself: same origin
    expect((await post('/admin/consolidate', { 'sec-fetch-site': 'same-origin', origin: t.url })).status).toBe(200);
    expect((await post('/admin/consolidate', { origin: t.url })).status).toBe(200);
    // scripts: a bearer token and no cookie, whatever else they send
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await fetch(`${t.url}/admin/consolidate`, { method: 'POST', headers: bearer })).status).toBe(200);
    expect((await fetch(`${t.url}/admin/consolidate`, { method: 'POST', headers: { ...bearer, origin: 'https://evil.example' } })).status).toBe(200);
  });

  it('OPTIONS on admin routes, and on paths under /page-view, answers no CORS headers', async () => {
    for (const path of ['/admin/consolidate', '/api/logout', '/api/login', '/aggregated-data/regions', '/page-view/', '/page-view/x', '/page-viewx']) {
      const res = await fetch(t.url + path, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(res.headers.get('access-control-allow-methods'), path).toBeNull();
      expect(res.status, path).toBe(404);
    }
  });

  it('HSTS only over HTTPS', async () => {
    expect((await fetch(`${t.url}/healthz`)).headers.get('strict-transport-security')).toBeNull();
    const secure = await fetch(`${t.url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(secure.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
  });

  it('admin answers are never cached: Cache-Control no-store, errors included', async () => {
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const answers = [
      await fetch(`${t.url}/aggregated-data/regions`, { headers: bearer }),
      await fetch(`${t.url}/aggregated-data/region-daily`, { headers: bearer }),
      await fetch(`${t.url}/aggregated-data/regions`),
      await fetch(`${t.url}/admin/consolidate`, { method: 'POST', headers: bearer }),
      await fetch(`${t.url}/api/session`),
      await login(t.url, 'wrong password'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 200, 200, 401]);
    for (const res of answers) expect(res.headers.get('cache-control'), res.url).toBe('no-store');
    expect((await fetch(`${t.url}/healthz`)).headers.get('cache-control')).not.toBe('no-store');
  });

  it.each(['/', '/healthz', '/tracker.js', '/aggregated-data/regions', '/nope'])('security headers on %s', async (path) => {
    const res = await fetch(t.url + path);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  });
});

describe('sessions across restarts', () => {
  it('a restart keeps sessions and revocations; a new password or token ends every session', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-sessions-'));
    try {
      let t = await startEmbeddedApp({}, { dataDir });
      const kept = await signIn(t.url);
      const loggedOut = await signIn(t.url);
      expect((await fetch(`${t.url}/api/logout`, { method: 'POST', headers: { cookie: loggedOut } })).status).toBe(204);
      await t.close();

      t = await startEmbeddedApp({}, { dataDir });
      expect(await asAdmin(t.url, kept)).toBe(200);
      expect(await asAdmin(t.url, loggedOut)).toBe(401);
      await t.close();

      const newPassword = 'a brand new password';
      t = await startEmbeddedApp({ ADMIN_PASSWORD: newPassword }, { dataDir });
      expect(await asAdmin(t.url, kept)).toBe(401);
      const afterChange = await signIn(t.url, newPassword);
      await t.close();

      t = await startEmbeddedApp({ ADMIN_PASSWORD: newPassword, ADMIN_TOKEN: 'a-new-admin-token-0123456789' }, { dataDir });
      expect(await asAdmin(t.url, afterChange)).toBe(401);
      await t.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("the embedded data folder is the owner's only", () => {
  it('DATA_DIR is 0700 and every file in it 0600, even under umask 000 and over a folder an older release left open', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'page-stats-perms-'));
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o777);
    writeFileSync(join(dataDir, 'left-by-an-older-release'), 'x', { mode: 0o666 });
    chmodSync(join(dataDir, 'left-by-an-older-release'), 0o666);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      ADMIN_PASSWORD,
    };
    const child = spawn('sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, CLI, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitForHttp(`${url}/healthz`, 60_000);
      const res = await fetch(`${url}/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: '{"pageName":"/perms"}',
      });
      expect(res.status).toBe(202);
      expect((await fetch(`${url}/admin/consolidate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    try {
      const open: string[] = [];
      const walk = (dir: string): void => {
        if ((statSync(dir).mode & 0o777) !== 0o700) open.push(`${dir} ${(statSync(dir).mode & 0o777).toString(8)}`);
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) walk(path);
          else if ((statSync(path).mode & 0o077) !== 0) open.push(`${path} ${(statSync(path).mode & 0o777).toString(8)}`);
        }
      };
      walk(dataDir);
      expect(readdirSync(join(dataDir, 'pglite')).length, output).toBeGreaterThan(0);
      expect(open, output).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('no secret in any log line', () => {
  it('trace-level logs of logins, bearer requests and failures never contain the password or token', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-logs-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const password = 'pa55word-that-must-not-leak';
    const token = 'token-that-must-not-leak-0123456789';
    const proc = runCli(['start'], {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'trace',
      ADMIN_PASSWORD: password,
      ADMIN_TOKEN: token,
    });
    try {
      await waitForHttp(`${url}/healthz`, 60_000, proc);
      await login(url, password);
      await login(url, `${password}-wrong`);
      await fetch(`${url}/aggregated-data/regions`, { headers: { authorization: `Bearer ${token}` } });
      await fetch(`${url}/aggregated-data/regions`, { headers: { authorization: `Bearer ${token}x` } });
      await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"password":"${password}` });
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
    const output = proc.output();
    expect(output.split('\n').length).toBeGreaterThan(3);
    expect(output).not.toContain(password);
    expect(output).not.toContain(token);
  });
});
