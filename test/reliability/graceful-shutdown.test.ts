import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/embedded-app.js';
import { PageViewLoad, viewsByPage } from '../helpers/load.js';
import { runCli, waitForHttp, type CliProcess } from '../helpers/process.js';
import { freePort } from '../tooling/free-port.js';

describe('graceful shutdown (embedded)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-sigterm-'));
  let proc: CliProcess | undefined;
  afterAll(() => {
    proc?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM under load loses no acknowledged event and exits 0 before its deadline', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      RATE_LIMIT_PER_MINUTE: '0',
      SHUTDOWN_TIMEOUT: '10s',
      LOG_LEVEL: 'info',
    };
    proc = runCli(['start'], env);
    await waitForHttp(`${url}/healthz`, 60_000, proc);
    const load = new PageViewLoad(() => url, 'sigterm');
    load.start(8, 0);
    await vi.waitFor(() => expect(load.acknowledged.size).toBeGreaterThanOrEqual(300), { timeout: 60_000, interval: 20 });
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    await load.stop();
    expect(code).toBe(0);
    expect(proc.output()).toMatch(/shutdown_done/);

    proc = runCli(['start'], env);
    await waitForHttp(`${url}/healthz`, 60_000, proc);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const problems = async (): Promise<string[]> => {
      await fetch(`${url}/admin/consolidate`, { method: 'POST', headers: auth });
      return load.verify(
        await viewsByPage(`${url}/aggregated-data/region-daily?startTime=${Date.now() - 2 * 86_400_000}&endTime=${Date.now() + 86_400_000}`, auth),
      );
    };
    await expect.poll(problems, { timeout: 30_000, interval: 200 }).toEqual([]);
  });
});
