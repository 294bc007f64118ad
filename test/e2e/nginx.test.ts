import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';
import { ROOT } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';

// The real nginx (Debian nginx-light, installed by scripts/setup-test-deps.sh) with the project's
// ui/nginx.conf, in front of the whole app started in this process.

const NGINX = '/usr/sbin/nginx';
const DIST = join(ROOT, 'dist');
const TEMPLATE = join(ROOT, 'ui', 'nginx.conf');
/** As root, nginx runs as this user, so a write to /var/log/nginx or /run would fail the start. */
const NOBODY = 65534;
/** A GB address in the geoip-country data set (MaxMind's documentation range). */
const GB_ADDRESS = '81.2.69.142';

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
function http(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, headers: options.headers, agent: false }, (res) => {
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
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = (res: RawResponse): any => JSON.parse(res.body.toString('utf8'));

describe('nginx in front of the app (ui/nginx.conf)', () => {
  let app: TestApp;
  let nginx: ChildProcess;
  let nginxExited: Promise<number | null>;
  let nginxStderr = '';
  let prefix: string;
  let url: string;
  let uiRoot: string;

  beforeAll(async () => {
    if (!existsSync(join(DIST, 'dashboard', 'index.html')) || !existsSync(join(DIST, 'tracker', 'tracker.js'))) {
      throw new Error('dist/ has no UI build: run `npm run build` first');
    }
    if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: run scripts/setup-test-deps.sh (Debian nginx-light)`);

    // The app trusts nginx (127.0.0.1) to append the client address to X-Forwarded-For.
    app = await startEmbeddedApp({ TRUST_PROXY: '127.0.0.1' });

    prefix = mkdtempSync(join(tmpdir(), 'page-stats-nginx-'));
    // A copy of the UI build laid out like dist/ (which may live where `nobody` cannot read), plus a
    // stand-in for the server code that also sits in dist/: it must never be served.
    uiRoot = join(prefix, 'ui');
    cpSync(join(DIST, 'dashboard'), join(uiRoot, 'dashboard'), { recursive: true });
    cpSync(join(DIST, 'tracker'), join(uiRoot, 'tracker'), { recursive: true });
    mkdirSync(join(uiRoot, 'runtime'));
    writeFileSync(join(uiRoot, 'runtime', 'cli.js'), '// server code\n');

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(prefix, 'nginx.conf'),
      renderNginxConf(readFileSync(TEMPLATE, 'utf8'), {
        NGINX_PORT: `127.0.0.1:${port}`,
        APP_UPSTREAM: new URL(app.url).host,
        UI_ROOT: uiRoot,
        NGINX_ACCESS_LOG: 'access.log', // relative: under the prefix
      }),
    );

    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownTree(prefix, NOBODY, NOBODY);
    nginx = spawn(NGINX, ['-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    nginx.stderr?.on('data', (d: Buffer) => (nginxStderr += d.toString()));
    nginxExited = new Promise((resolve) => nginx.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 30_000;
    for (;;) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}:\n${nginxStderr}`);
      const up = await http(url, 'GET', '/nginx-health').then((r) => r.status === 200, () => false);
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
    await app?.close();
    if (prefix !== undefined) rmSync(prefix, { recursive: true, force: true });
  });

  it('runs as a normal user with everything it writes under its prefix', () => {
    const pid = Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim());
    expect(pid).toBe(nginx.pid);
    for (const dir of ['client_body_temp', 'proxy_temp']) expect(statSync(join(prefix, dir)).isDirectory()).toBe(true);
    expect(existsSync(join(prefix, 'access.log'))).toBe(true);
    if (process.getuid?.() === 0) {
      // nobody cannot write to /var/log/nginx, /var/lib/nginx or /run: getting here proves nginx did not try
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      expect(Number(uid)).toBe(NOBODY);
    }
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

  it('passes the client address on: a CDN-supplied X-Forwarded-For decides the region', async () => {
    const send = (pageName: string, headers: Record<string, string>) =>
      http(url, 'POST', '/page-view', {
        headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA, ...headers },
        body: JSON.stringify({ pageName }), // no region: the server derives it from the address
      });
    // As if a CDN in front of nginx had added the visitor's address.
    const viaCdn = await send('/nginx-xff', { 'x-forwarded-for': GB_ADDRESS });
    expect(viaCdn.status).toBe(202);
    expect(json(viaCdn)).toEqual({ accepted: 1 });
    // Straight to nginx: the address nginx saw (loopback, no country).
    expect((await send('/nginx-direct', {})).status).toBe(202);

    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    let rows: Array<{ region: string; pageName: string; views: number }> = [];
    for (let attempt = 0; attempt < 100 && rows.length < 2; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 200));
      const run = await http(url, 'POST', '/admin/consolidate', { headers: admin });
      expect(run.status).toBe(200);
      const daily = await http(url, 'GET', '/aggregated-data/region-daily', { headers: admin });
      expect(daily.status).toBe(200);
      rows = (json(daily).rows as typeof rows).filter((r) => r.pageName.startsWith('/nginx-'));
    }
    // Appended, not replaced: "81.2.69.142, 127.0.0.1" — the app trusts 127.0.0.1 and stops at
    // the first address it does not trust. Replacing the header would have made this "unknown".
    expect(rows.map(({ region, pageName, views }) => ({ region, pageName, views })).sort((a, b) => a.pageName.localeCompare(b.pageName))).toEqual([
      { region: 'unknown', pageName: '/nginx-direct', views: 1 },
      { region: 'GB', pageName: '/nginx-xff', views: 1 },
    ]);
    expect(readFileSync(join(prefix, 'access.log'), 'utf8')).toContain(`"POST /page-view HTTP/1.1" 202`);
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
        expect(res.names.filter((n) => n === name), `${name} once on a ${res.status}`).toHaveLength(1);
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
