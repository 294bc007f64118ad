import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../tooling/free-port.js';
import { ADMIN_TOKEN, BROWSER_UA } from '../helpers/embedded-app.js';
import { viewsByPage } from '../helpers/load.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('kill -9 right after a stream of 202 responses', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-crash-'));
  let proc: CliProcess | undefined;
  afterAll(async () => {
    proc?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts every acknowledged event after restart, none twice', async () => {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN, RATE_LIMIT_PER_MINUTE: '0' };
    const url = `http://127.0.0.1:${port}`;
    proc = runCli(['start'], env);
    await waitForHttp(`${url}/healthz`, 60_000, proc);

    // Each request carries its own page name, so what was stored can be traced to the request.
    const sizes = new Map<string, number>();
    const acknowledged = new Set<string>();
    let killed = false;
    const sender = async (worker: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        const page = `/w${worker}/r${i}`;
        const size = 1 + ((worker * 7 + i) % 20);
        sizes.set(page, size);
        const body = JSON.stringify(Array.from({ length: size }, () => ({ pageName: page, region: 'DE' })));
        try {
          const res = await fetch(`${url}/page-view`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
            body,
          });
          if (res.status === 202) acknowledged.add(page);
        } catch {
          return; // the process died under this request: not acknowledged
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => sender(w));
    await vi.waitFor(() => expect(acknowledged.size).toBeGreaterThanOrEqual(300), { timeout: 60_000, interval: 10 });
    proc.child.kill('SIGKILL');
    killed = true;
    await proc.exited;
    await Promise.all(workers);
    expect(acknowledged.size).toBeGreaterThanOrEqual(300);

    proc = runCli(['start'], env);
    await waitForHttp(`${url}/healthz`, 60_000, proc);
    const expectedViews = [...acknowledged].reduce((n, p) => n + sizes.get(p)!, 0);
    let byPage = new Map<string, number>();
    const storedViews = async (): Promise<number> => {
      const run = await fetch(`${url}/admin/consolidate`, { method: 'POST', headers: auth });
      expect(run.status).toBe(200);
      byPage = await viewsByPage(`${url}/aggregated-data/region-daily?startTime=${Date.now() - 3 * 86_400_000}&endTime=${Date.now() + 86_400_000}`, auth);
      return [...byPage].filter(([page]) => acknowledged.has(page)).reduce((n, [, views]) => n + views, 0);
    };
    await expect.poll(storedViews, { timeout: 60_000, interval: 250 }).toBeGreaterThanOrEqual(expectedViews);
    for (const page of acknowledged) expect(byPage.get(page), page).toBe(sizes.get(page));
    // Requests cut off by the kill may or may not have been stored, but never partially or twice.
    for (const [page, views] of byPage) expect(views, page).toBe(sizes.get(page));
  });
});
