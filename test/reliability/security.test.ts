import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_TOKEN, BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';
import { runCli, waitForHttp } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { mkdtempSync, rmSync } from 'node:fs';
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

const login = (url: string, password: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ password }) });

describe('security', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startEmbeddedApp({ ALLOWED_ORIGINS: SITE, TRUST_PROXY: '127.0.0.1', SESSION_TTL: '2s' });
  });
  afterAll(async () => await t?.close());

  it.each(ADMIN_ONLY)('%s %s answers 401 without credentials, with a wrong token, with a forged cookie', async (method, path) => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: 'Basic YWRtaW46YWRtaW4=' }, { cookie: 'page_stats_session=9999999999999.x.forged' }];
    for (const headers of attempts) {
      const res = await fetch(t.url + path, { method, headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect((await res.json()).error).toMatch(/authentication required|invalid bearer token/);
    }
    const ok = await fetch(t.url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  it('the session cookie is HttpOnly, SameSite=Strict, Secure behind TLS, and expires', async () => {
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
    await new Promise((r) => setTimeout(r, 2_200));
    expect((await fetch(`${t.url}/aggregated-data/regions`, { headers: { cookie: session } })).status).toBe(401);
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
      fetch(`${t.url}/page-view`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await preflight(SITE);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SITE);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const post = (origin: string): Promise<Response> =>
      fetch(`${t.url}/page-view`, { method: 'POST', headers: { origin, 'content-type': 'text/plain', 'user-agent': BROWSER_UA }, body: '{"pageName":"/cors"}' });
    expect((await post(SITE)).status).toBe(202);
    const refused = await post('https://evil.example');
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatch(/ALLOWED_ORIGINS/);
    const admin = await fetch(`${t.url}/aggregated-data/regions`, { headers: { origin: SITE, authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
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

describe('no secret in any log line', () => {
  it('trace-level logs of logins, bearer requests and failures never contain the password or token', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-logs-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const password = 'pa55word-that-must-not-leak';
    const token = 'token-that-must-not-leak-0123456789';
    const proc = runCli(['start'], { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'trace', ADMIN_PASSWORD: password, ADMIN_TOKEN: token });
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
