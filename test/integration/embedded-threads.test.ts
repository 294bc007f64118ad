import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../src/adapters/embedded/bus.js';
import { EmbeddedEventStore } from '../../src/adapters/embedded/event-store.js';
import { openPgliteWorker } from '../../src/adapters/embedded/pglite-worker.js';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { BROWSER_UA, postEvents, startEmbeddedApp, waitForProcessed } from '../helpers/embedded-app.js';

const LIMITS = { maxPageNames: 10_000, maxRegions: 1_000 };

const viewsByPage = async (store: { dailyCounts: EmbeddedEventStore['dailyCounts'] }, from: number, to: number): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for (const c of await store.dailyCounts(from, to, 'UTC')) out[c.pageName] = (out[c.pageName] ?? 0) + c.views;
  return out;
};

describe('embedded databases in threads of their own', () => {
  it('a page view and /healthz are answered while a large consolidation runs', async () => {
    const t = await startEmbeddedApp({ MAX_PAGE_NAMES: '20000' });
    try {
      const now = Date.now();
      const events = Array.from({ length: 20_000 }, (_, i) => ({
        pageName: `/big/${i % 5_000}`,
        region: ['DE', 'US', 'FR', 'JP'][Math.floor(i / 5_000)],
        timestamp: now - 60_000,
      }));
      await postEvents(t.url, events);
      await waitForProcessed(t.app, now - 86_400_000, now + 86_400_000, events.length);

      const finished: string[] = [];
      const consolidation = t.post('/admin/consolidate').then((r) => {
        expect(r.status).toBe(200);
        expect(r.body.dailyRows).toBeGreaterThanOrEqual(20_000);
        finished.push('consolidation');
      });
      // let the consolidation reach the database first
      await new Promise((r) => setTimeout(r, 300));
      const view = fetch(`${t.url}/page-view`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify({ pageName: '/during-consolidation' }),
      }).then((r) => {
        expect(r.status).toBe(202);
        finished.push('page view');
      });
      const health = fetch(`${t.url}/healthz`).then((r) => {
        expect(r.status).toBe(200);
        finished.push('healthz');
      });
      await Promise.all([consolidation, view, health]);
      // Both were answered before the consolidation: the page view committed to the event log's
      // own database, /healthz never waited for the database thread.
      expect(finished.at(-1)).toBe('consolidation');
    } finally {
      await t.close();
    }
  });

  it('a data folder from the single-database layout: its event log moves over, offsets continue, nothing is lost or counted twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'page-stats-layout-'));
    const now = Date.now();
    const event = (pageName: string) => ({ timestamp: now - 60_000, region: 'DE', pageName, bot: false });
    try {
      // The previous release: event log and event store in one database, consumed entries trimmed.
      const old = await openPglite(join(dataDir, 'pglite'));
      const bus = await EmbeddedBus.open(old, { batchSize: 100 });
      const store = await EmbeddedEventStore.open(old, LIMITS);
      await bus.publish(Array.from({ length: 5 }, () => event('/consumed-before')));
      await bus.start(async (batch) => void (await store.write(batch)));
      await expect.poll(() => bus.lag(), { timeout: 10_000, interval: 50 }).toBe(0);
      await bus.stop();
      await bus.publish(Array.from({ length: 3 }, () => event('/pending-at-upgrade')));
      await bus.close();
      await old.close();

      const t = await startEmbeddedApp({}, { dataDir });
      try {
        await postEvents(t.url, [
          { pageName: '/after-upgrade', region: 'DE' },
          { pageName: '/after-upgrade', region: 'DE' },
        ]);
        await waitForProcessed(t.app, now - 86_400_000, now + 86_400_000, 10);
        // A marker sent last: once it is stored, everything before it in the one-partition log was
        // processed, so a copy counted twice would show in the counts below.
        await postEvents(t.url, [{ pageName: '/marker', region: 'DE' }]);
        await waitForProcessed(t.app, now - 86_400_000, now + 86_400_000, 11);
        expect(await viewsByPage(t.app.eventStore!, now - 86_400_000, now + 86_400_000)).toEqual({
          '/consumed-before': 5,
          '/pending-at-upgrade': 3,
          '/after-upgrade': 2,
          '/marker': 1,
        });
      } finally {
        await t.close();
      }
      const store2 = await openPgliteWorker(join(dataDir, 'pglite'));
      try {
        const { rows } = await store2.query<{ log: string | null }>(`SELECT to_regclass('event_log')::text AS log`);
        expect(rows[0]?.log).toBeNull();
      } finally {
        await store2.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
