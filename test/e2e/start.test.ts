import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../tooling/free-port.js';
import { BROWSER_UA } from '../helpers/embedded-app.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';

describe('page-stats start, as a newcomer runs it', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-start-'));
  const running: CliProcess[] = [];
  afterAll(async () => {
    for (const p of running) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the dashboard and tracker, prints generated credentials once, and they work', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' };
    const first = runCli(['start'], env);
    running.push(first);
    await waitForHttp(`${url}/healthz`, 60_000, first);

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<script[^>]+src="\/assets\//);
    const tracker = await fetch(`${url}/tracker.js`);
    expect(tracker.status).toBe(200);
    expect(tracker.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const password = /password: (\S+)/.exec(first.output())?.[1];
    const token = /token: {4}(\S+)/.exec(first.output())?.[1];
    expect(password).toBeDefined();
    expect(token).toBeDefined();
    const stored = readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8');
    expect(stored).not.toContain(password!);
    expect(stored).not.toContain(token!);
    // no secret in any log line
    for (const line of first
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))) {
      expect(line).not.toContain(password!);
      expect(line).not.toContain(token!);
    }

    expect((await fetch(`${url}/aggregated-data/region-weekly`)).status).toBe(401);
    const wrong = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"password":"nope"}' });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    });
    expect(login.status).toBe(204);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const session = cookie.split(';')[0]!;
    expect(await (await fetch(`${url}/api/session`, { headers: { cookie: session } })).json()).toMatchObject({ authenticated: true });
    expect(await (await fetch(`${url}/api/session`)).json()).toEqual({ authenticated: false });
    const weekly = await fetch(`${url}/aggregated-data/region-weekly?region=&startTime=&endTime=`, { headers: { cookie: session } });
    expect(weekly.status).toBe(200);
    expect((await weekly.json()).granularity).toBe('weekly');
    const byToken = await fetch(`${url}/aggregated-data/region-daily`, { headers: { authorization: `Bearer ${token}` } });
    expect(byToken.status).toBe(200);

    // one page view through the tracker's transport (text/plain), counted after consolidation
    const view = await fetch(`${url}/page-view`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA },
      body: JSON.stringify({ pageName: '/hello', region: 'NL' }),
    });
    expect(view.status).toBe(202);
    const counted = async (): Promise<unknown[]> => {
      const run = await fetch(`${url}/admin/consolidate`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(run.status).toBe(200);
      return (await (await fetch(`${url}/aggregated-data/region-daily?region=NL`, { headers: { cookie: session } })).json()).rows;
    };
    await expect.poll(counted, { timeout: 10_000, interval: 200 }).toEqual([expect.objectContaining({ region: 'NL', pageName: '/hello', views: 1 })]);
    const regions = await (await fetch(`${url}/aggregated-data/regions`, { headers: { cookie: session } })).json();
    expect(regions).toEqual({ regions: ['NL'] });

    // `page-stats consolidate` on the same machine goes through the running server, which owns the data
    const today = new Date().toISOString().slice(0, 10);
    const cli = runCli(['consolidate', '--from', today, '--to', today], env);
    expect(await cli.exited, cli.output()).toBe(0);
    expect(JSON.parse(cli.output())).toMatchObject({ from: today, to: today, days: 1, dailyRows: 1 });
    const badRange = runCli(['consolidate', '--from', 'yesterday'], env);
    expect(await badRange.exited).toBe(1);
    expect(badRange.output()).toMatch(/400.*from: expected a date/);

    // a second process on the same DATA_DIR refuses with a clear message
    const second = runCli(['start'], { ...env, PORT: String(await freePort()) });
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toMatch(/DATA_DIR .* is in use/);

    // SIGTERM: graceful stop; a restart keeps the credentials and does not print them again
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const again = runCli(['start'], env);
    running.push(again);
    await waitForHttp(`${url}/healthz`, 60_000, again);
    expect(again.output()).not.toMatch(/password:/);
    expect((await fetch(`${url}/aggregated-data/region-daily`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('a bad configuration value stops start-up with a message naming the variable', async () => {
    const bad = runCli(['start'], { DATA_DIR: dataDir, REPORT_TIMEZONE: 'Atlantis/Capital' });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/REPORT_TIMEZONE/);
  });

  it('consolidate and import refuse Kafka and PostgreSQL without InfluxDB, which would recompute days from an empty store', async () => {
    const env = { DATA_DIR: dataDir, KAFKA_BROKERS: '127.0.0.1:1', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
    for (const args of [
      ['consolidate', '--recompute'],
      ['import', 'history.csv'],
    ]) {
      const refused = runCli(args, env);
      expect(await refused.exited, refused.output()).toBe(2);
      expect(refused.output()).toMatch(new RegExp(`page-stats ${args[0]}: set INFLUX_URL`));
    }
  });
});
