// Idempotency-Key in embedded mode: a client resending a request with the same key, before and
// after a restart, gets the same 202 and its events are counted once.
import { afterAll, describe, expect, it } from 'vitest';
import { BROWSER_UA, startEmbeddedApp, type TestApp } from '../helpers/embedded-app.js';

describe('Idempotency-Key (embedded)', () => {
  let t: TestApp | undefined;
  afterAll(async () => await t?.close());

  it('counts a keyed request once across retries and a restart; other keys and no key count apart', async () => {
    t = await startEmbeddedApp({ CONSOLIDATE_SCHEDULE: '0 0 1 1 *' });
    const dataDir = t.dataDir;
    const send = async (app: TestApp, pageName: string, key?: string) =>
      await fetch(`${app.url}/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': BROWSER_UA, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        body: JSON.stringify([{ pageName }, { pageName }]),
      });
    const first = await send(t, '/k', 'retry-me-1');
    expect(first.status).toBe(202);
    const answer = await first.json();
    expect((await send(t, '/k', 'retry-me-1')).status).toBe(202);
    await t.close();
    t = await startEmbeddedApp({ CONSOLIDATE_SCHEDULE: '0 0 1 1 *' }, { dataDir });
    const again = await send(t, '/k', 'retry-me-1');
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(answer);
    expect((await send(t, '/k', 'another-key')).status).toBe(202);
    expect((await send(t, '/k')).status).toBe(202);
    const tooLong = await send(t, '/k', 'x'.repeat(129));
    expect(tooLong.status).toBe(400);
    expect((await tooLong.json()).details.join(' ')).toMatch(/Idempotency-Key/);
    await expect
      .poll(
        async () => {
          await t!.post('/admin/consolidate');
          return (await t!.get('/aggregated-data/summary?pageName=/k')).body.views;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(6);
  });
});
