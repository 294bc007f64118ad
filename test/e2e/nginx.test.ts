import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedTrustProxy } from '../deploy/app-contract.js';
import { ADMIN_PASSWORD, ADMIN_TOKEN, BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';
import { ROOT } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';
import { startNetworkNamespace, type NetworkNamespace } from '../tooling/netns.js';

// The real nginx (Debian nginx-light, installed by scripts/setup-test-deps.sh) with the project's
// ui/nginx.conf, in front of the whole app started in this process, which runs with the
// TRUST_PROXY that docker-compose.yml and the Kubernetes manifests ship.
//
// Visitors must reach nginx from addresses of their own (a GB address, two more for rate
// limits), so nginx runs in a network namespace of the test's whose loopback also carries those
// addresses. Visitors are Unix sockets into that namespace, each connecting to nginx from one
// address; nginx reaches the app through a Unix socket piped to the app's port.

const NGINX = '/usr/sbin/nginx';
const DIST = join(ROOT, 'dist');
const TEMPLATE = join(ROOT, 'ui', 'nginx.conf');
/** As root, nginx runs as this user, so a write to /var/log/nginx or /run would fail the start. */
const NOBODY = 65534;
/** A GB address in the geoip-country data set (MaxMind's documentation range). */
const GB_ADDRESS = '81.2.69.142';
/** An SE address from the same range. */
const SE_ADDRESS = '89.160.20.112';
/** Two visitors without a country, for the per-visitor rate limit. */
const VISITOR_A = '198.51.100.7';
const VISITOR_B = '198.51.100.8';
/** Loopback: the address tests use when who the visitor is does not matter. */
const LOCAL = '127.0.0.1';
/** What a browser would send as Host and Origin: the address it reached nginx at. */
const PUBLIC_HOST = 'stats.example:8080';
/** Low enough to reach through nginx's own limit (20/s, burst 100) in a few seconds. */
const APP_RATE_LIMIT = 150;

/** Where a request goes: the app's own URL, or a visitor's socket to nginx. */
type Via = string | { socketPath: string };

/** envsubst for the template: every ${NAME} must have a value, and nothing else is touched. */
function renderNginxConf(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`ui/nginx.conf uses \${${name}}, which the test does not set`);
    return value;
  });
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** header names as sent, lower-cased, repeated when sent twice */
  names: string[];
  body: Buffer;
}

/** One HTTP/1.1 request on its own connection, with headers and body exactly as they came. */
function http(via: Via, method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target =
      typeof via === 'string'
        ? { url: via + path, headers: options.headers }
        : { url: `http://${PUBLIC_HOST}${path}`, headers: { host: PUBLIC_HOST, ...options.headers }, socketPath: via.socketPath };
    const req = request(
      target.url,
      { method, headers: target.headers, agent: false, ...(target.socketPath ? { socketPath: target.socketPath } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            names: res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = (res: RawResponse): any => JSON.parse(res.body.toString('utf8'));

describe('nginx in front of the app (ui/nginx.conf), with the shipped TRUST_PROXY', () => {
  let app: TestApp;
  let nginx: ChildProcess;
  let nginxExited: Promise<number | null>;
  let nginxStderr = '';
  let prefix: string;
  let netns: NetworkNamespace;
  let upstream: Server;
  /** a visitor's way to nginx, by source address */
  const visitors: Record<string, Via> = {};
  let url: Via;
  let uiRoot: string;

  beforeAll(async () => {
    if (!existsSync(join(DIST, 'dashboard', 'index.html')) || !existsSync(join(DIST, 'tracker', 'tracker.js'))) {
      throw new Error('dist/ has no UI build: run `npm run build` first');
    }
    if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: run scripts/setup-test-deps.sh (Debian nginx-light)`);

    // The app trusts one hop, nginx, to append the client address to X-Forwarded-For.
    app = await startEmbeddedApp({ TRUST_PROXY: shippedTrustProxy(), RATE_LIMIT_PER_MINUTE: String(APP_RATE_LIMIT) });

    prefix = mkdtempSync(join(tmpdir(), 'page-stats-nginx-'));
    netns = await startNetworkNamespace([GB_ADDRESS, SE_ADDRESS, VISITOR_A, VISITOR_B]);
    // nginx (inside the namespace) → this socket → the app's port (outside)
    const appSocket = join(prefix, 'app.sock');
    const appPort = Number(new URL(app.url).port);
    upstream = createServer((c) => {
      const u = connect(appPort, '127.0.0.1');
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      c.pipe(u).pipe(c);
    });
    await new Promise<void>((resolve) => upstream.listen(appSocket, resolve));
    chmodSync(appSocket, 0o666);
    // A copy of the UI build laid out like dist/ (which may live where `nobody` cannot read), plus a
    // stand-in for the server code that also sits in dist/: it must never be served.
    uiRoot = join(prefix, 'ui');
    cpSync(join(DIST, 'dashboard'), join(uiRoot, 'dashboard'), { recursive: true });
    cpSync(join(DIST, 'tracker'), join(uiRoot, 'tracker'), { recursive: true });
    mkdirSync(join(uiRoot, 'runtime'));
    writeFileSync(join(uiRoot, 'runtime', 'cli.js'), '// server code\n');

    const port = await freePort();
    writeFileSync(
      join(prefix, 'nginx.conf'),
      renderNginxConf(readFileSync(TEMPLATE, 'utf8'), {
        NGINX_PORT: `127.0.0.1:${port}`,
        APP_UPSTREAM: `unix:${appSocket}`,
        UI_ROOT: uiRoot,
        NGINX_ACCESS_LOG: 'access.log', // relative: under the prefix
      }),
    );

    chownTree(prefix, NOBODY, NOBODY);
    nginx = netns.spawn(NGINX, ['-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      user: NOBODY,
    });
    nginx.stderr?.on('data', (d: Buffer) => (nginxStderr += d.toString()));
    nginxExited = new Promise((resolve) => nginx.once('exit', (code) => resolve(code)));
    mkdirSync(join(prefix, 'visitors'));
    const sockets = await netns.visitorSockets(join(prefix, 'visitors'), port, [LOCAL, GB_ADDRESS, SE_ADDRESS, VISITOR_A, VISITOR_B]);
    for (const [address, socketPath] of Object.entries(sockets)) visitors[address] = { socketPath };
    url = visitors[LOCAL]!;

    const deadline = Date.now() + 30_000;
    for (;;) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}:\n${nginxStderr}`);
      const up = await http(url, 'GET', '/nginx-health').then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`nginx did not answer within 30 s:\n${nginxStderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    if (nginx !== undefined && nginx.exitCode === null) {
      nginx.kill('SIGQUIT'); // graceful stop
      const stopped = await Promise.race([nginxExited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      if (stopped === 'timeout') nginx.kill('SIGKILL');
    }
    await netns?.stop();
    await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)));
    await app?.close();
    if (prefix !== undefined) rmSync(prefix, { recursive: true, force: true });
  });

  it('runs as a normal user with everything it writes under its prefix', () => {
    const pid = Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim());
    expect(pid).toBe(nginx.pid);
    for (const dir of ['client_body_temp', 'proxy_temp']) expect(statSync(join(prefix, dir)).isDirectory()).toBe(true);
    expect(existsSync(join(prefix, 'access.log'))).toBe(true);
    // nobody cannot write to /var/log/nginx, /var/lib/nginx or /run: getting here proves nginx did not try
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    expect(Number(uid)).toBe(NOBODY);
    expect(nginxStderr).not.toMatch(/\[(emerg|alert|crit)\]/);
  });

  it('serves the tracker itself: JavaScript, gzip when asked, cached for an hour', async () => {
    const file = readFileSync(join(uiRoot, 'tracker', 'tracker.js'));
    const gz = await http(url, 'GET', '/tracker.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-type']).toMatch(/^text\/javascript|^application\/javascript/);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toMatch(/accept-encoding/i);
    expect(gunzipSync(gz.body).equals(file)).toBe(true);
    expect(gz.headers['cache-control']).toBe('public, max-age=3600');
    // other sites load it
    expect(gz.headers['cross-origin-resource-policy']).toBe('cross-origin');

    const plain = await http(url, 'GET', '/tracker.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(file)).toBe(true);
  });

  it('serves the dashboard and its hashed assets, the assets as immutable', async () => {
    const page = await http(url, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body.equals(readFileSync(join(uiRoot, 'dashboard', 'index.html')))).toBe(true);
    expect(page.headers['cache-control']).toBe('no-cache');

    const assetPath = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(page.body.toString())?.[1];
    expect(assetPath).toBeDefined();
    const asset = await http(url, 'GET', assetPath!, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(asset.body).equals(readFileSync(join(uiRoot, 'dashboard', assetPath!)))).toBe(true);
    // the app's own static handler says max-age=0: this header shows nginx served the file
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    const css = readdirSync(join(uiRoot, 'dashboard', 'assets')).find((f) => f.endsWith('.css'));
    if (css !== undefined) {
      const style = await http(url, 'GET', `/assets/${css}`);
      expect(style.headers['content-type']).toMatch(/^text\/css/);
      expect(style.headers['cache-control']).toMatch(/immutable/);
    }

    const missing = await http(url, 'GET', '/assets/not-built-0000.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBeUndefined(); // an error is never cached for a year
    // UI_ROOT may be dist/ itself: only dashboard/ and tracker/tracker.js are reachable
    expect((await http(url, 'GET', '/runtime/cli.js')).status).toBe(404);
    expect((await http(url, 'GET', '/tracker/tracker.js')).status).toBe(404);
    expect((await http(url, 'GET', '/dashboard/index.html')).status).toBe(404);
  });

  it('proxies health, readiness and the bearer-protected metrics', async () => {
    const health = await http(url, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(json(health)).toEqual({ status: 'ok' });
    const ready = await http(url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(json(ready).status).toBe('ready');
    expect((await http(url, 'GET', '/metrics')).status).toBe(401);
    const metrics = await http(url, 'GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.body.toString()).toMatch(/^# HELP /m);
    const session = await http(url, 'GET', '/api/session');
    expect(json(session)).toEqual({ authenticated: false });
  });

  const pageView = (via: Via, pageName: string, headers: Record<string, string> = {}) =>
    http(via, 'POST', '/page-view', {
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA, ...headers },
      body: JSON.stringify({ pageName }), // no region: the server derives it from the address
    });

  it('derives the region from the visitor address nginx forwards; a forged X-Forwarded-For changes nothing', async () => {
    expect((await pageView(visitors[GB_ADDRESS]!, '/nginx-gb')).status).toBe(202);
    // what the visitor writes into the header stands left of the address nginx appends
    expect((await pageView(visitors[SE_ADDRESS]!, '/nginx-se', { 'x-forwarded-for': GB_ADDRESS })).status).toBe(202);
    expect((await pageView(url, '/nginx-local')).status).toBe(202);

    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    let rows: Array<{ region: string; pageName: string; views: number }> = [];
    for (let attempt = 0; attempt < 100 && rows.length < 3; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 200));
      const run = await http(url, 'POST', '/admin/consolidate', { headers: admin });
      expect(run.status).toBe(200);
      const daily = await http(url, 'GET', '/aggregated-data/region-daily', { headers: admin });
      expect(daily.status).toBe(200);
      rows = (json(daily).rows as typeof rows).filter((r) => r.pageName.startsWith('/nginx-'));
    }
    expect(rows.map(({ region, pageName, views }) => ({ region, pageName, views })).sort((a, b) => a.pageName.localeCompare(b.pageName))).toEqual([
      { region: 'GB', pageName: '/nginx-gb', views: 1 },
      { region: 'unknown', pageName: '/nginx-local', views: 1 },
      { region: 'SE', pageName: '/nginx-se', views: 1 },
    ]);
    expect(readFileSync(join(prefix, 'access.log'), 'utf8')).toContain(`${GB_ADDRESS} - [`);
  });

  it('rate-limits page views per visitor: two visitors behind nginx do not share a bucket', async () => {
    // Paced so nginx's own limit (20/s, burst 100) lets them through: the 429 must be the app's.
    const statuses: number[] = [];
    for (let i = 0; i <= APP_RATE_LIMIT; i++) {
      const res = await pageView(visitors[VISITOR_A]!, '/nginx-limit');
      statuses.push(res.status);
      if (res.status === 429) {
        expect(JSON.stringify(json(res))).not.toContain('nginx');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(APP_RATE_LIMIT);
    expect(statuses.at(-1)).toBe(429);
    // the next visitor is not limited by the first one's requests
    expect((await pageView(visitors[VISITOR_B]!, '/nginx-limit')).status).toBe(202);
    // and a visitor cannot escape the limit by forging X-Forwarded-For
    expect((await pageView(visitors[VISITOR_A]!, '/nginx-limit', { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
  });

  it('sign-in: login limits are per visitor, the cookie is Secure over X-Forwarded-Proto: https, and the Origin check passes', async () => {
    const login = (via: Via, password: string, headers: Record<string, string> = {}) =>
      http(via, 'POST', '/api/login', { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ password }) });
    for (let i = 0; i < 10; i++) expect((await login(visitors[VISITOR_A]!, `guess-${i}`)).status).toBe(401);
    expect((await login(visitors[VISITOR_A]!, ADMIN_PASSWORD)).status).toBe(429);
    // someone else guessing does not lock the admin out
    const secure = await login(visitors[VISITOR_B]!, ADMIN_PASSWORD, { 'x-forwarded-proto': 'https', origin: `https://${PUBLIC_HOST}` });
    expect(secure.status).toBe(204);
    expect(secure.headers['set-cookie']?.[0]).toMatch(/; Secure/i);
    expect(secure.headers['strict-transport-security']).toBeDefined();
    // plain http: no Secure flag (the browser would not send the cookie back), no HSTS
    const plain = await login(visitors[GB_ADDRESS]!, ADMIN_PASSWORD, { origin: `http://${PUBLIC_HOST}` });
    expect(plain.status).toBe(204);
    expect(plain.headers['set-cookie']?.[0]).not.toMatch(/; Secure/i);
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    // a page on another origin cannot sign the browser in or out
    expect((await login(visitors[GB_ADDRESS]!, ADMIN_PASSWORD, { origin: 'http://stats.example:9090' })).status).toBe(403);
  });

  it('answers an oversized body with 413 itself; the app never sees it', async () => {
    const big = JSON.stringify({ pageName: `/${'a'.repeat(100 * 1024)}` });
    const headers = { 'content-type': 'application/json', 'user-agent': BROWSER_UA };
    const res = await http(url, 'POST', '/page-view', { headers, body: big });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = json(res);
    expect(body.error).toBe('request body too large');
    expect(body.details[0]).toMatch(/^nginx: /);
    // The app's own 413 for the same body reads differently.
    const direct = await http(app.url, 'POST', '/page-view', { headers, body: big });
    expect(direct.status).toBe(413);
    expect(JSON.stringify(json(direct))).not.toContain('nginx');
    // Just under the limit it reaches the app, which refuses the 60k page name itself.
    const under = await http(url, 'POST', '/page-view', { headers, body: JSON.stringify({ pageName: `/${'a'.repeat(60 * 1024)}` }) });
    expect(under.status).toBe(400);
    expect(JSON.stringify(json(under))).not.toContain('nginx');
  });

  it('sends the security headers once, on files, proxied answers and its own errors', async () => {
    const appCsp = (await http(app.url, 'GET', '/healthz')).headers['content-security-policy'];
    expect(appCsp, 'the app sends a CSP').toBeDefined();
    const answers = [
      await http(url, 'GET', '/'),
      await http(url, 'GET', '/tracker.js'),
      await http(url, 'GET', '/healthz'),
      await http(url, 'GET', '/aggregated-data/region-daily'), // 401 from the app
      await http(url, 'POST', '/page-view', { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(70_000) }), // 413 from nginx
      await http(url, 'GET', '/no-such-page'), // 404 from nginx
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 401, 413, 404]);
    for (const res of answers) {
      for (const name of ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy']) {
        expect(
          res.names.filter((n) => n === name),
          `${name} once on a ${res.status}`,
        ).toHaveLength(1);
      }
      // nginx serves the dashboard's HTML: keep ui/nginx.conf's CSP in step with src/runtime/http-server.ts
      expect(res.headers['content-security-policy']).toBe(appCsp);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers.server).toBe('nginx'); // no version
    }
  });

  it('limits the request rate on /page-view with a 429 of its own', async () => {
    // 20/s with a burst of 100 per address: 250 requests at once cannot all pass.
    const answers = await Promise.all(
      Array.from({ length: 250 }, () =>
        http(url, 'POST', '/page-view', {
          headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
          body: JSON.stringify({ pageName: '/nginx-burst' }),
        }),
      ),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 202).length).toBeGreaterThanOrEqual(100);
    expect(answers.every((a) => a.status === 202 || a.status === 429)).toBe(true);
    for (const res of limited) expect(json(res).details[0]).toMatch(/^nginx: /);
  });
});

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}
