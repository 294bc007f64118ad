import { EmbeddedEventStore } from '../../src/adapters/embedded/event-store.js';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded (PGlite)', async () => {
  const db = await openPglite(undefined);
  return { store: await EmbeddedEventStore.open(db), dispose: async () => await db.close() };
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxEventStore, OVERFLOW_PAGE } from '../../src/adapters/influx/event-store.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';

let influx: InfluxDB | undefined;
const influxServer = async (): Promise<InfluxDB> => (influx ??= await startInfluxDB());
afterAll(async () => await influx?.stop());

let dbCounter = 0;
eventStoreContract('InfluxDB', async () => {
  const server = await influxServer();
  const store = await InfluxEventStore.open({ url: server.url, db: `contract_${process.pid}_${dbCounter++}`, token: undefined, retention: 'INF', maxPageNames: 10_000 });
  return { store, dispose: async () => {} };
});

describe('InfluxDB page-name cap', () => {
  let store: InfluxEventStore;
  beforeAll(async () => {
    const server = await influxServer();
    store = await InfluxEventStore.open({ url: server.url, db: `cap_${process.pid}`, token: undefined, retention: '30d', maxPageNames: 3 });
  });

  it('drops points beyond the retention policy instead of failing the batch forever', async () => {
    const old = { timestamp: Date.now() - 60 * 86_400_000, region: 'DE', pageName: '/a', bot: false, partition: 0, offset: '900' };
    await expect(store.write([old])).resolves.toBeUndefined();
  });

  it('counts page names past MAX_PAGE_NAMES as (other), and keeps the cap after a restart', async () => {
    const t = Date.now() - 3_600_000;
    const events = ['/a', '/b', '/c', '/d', '/e', '/a'].map((pageName, i) => ({ timestamp: t, region: 'DE', pageName, bot: false, partition: 0, offset: String(i + 1) }));
    await store.write(events);
    const server = await influxServer();
    const reopened = await InfluxEventStore.open({ url: server.url, db: `cap_${process.pid}`, token: undefined, retention: '30d', maxPageNames: 3 });
    await reopened.write([{ timestamp: t, region: 'DE', pageName: '/f', bot: false, partition: 0, offset: '100' }]);
    const counts = await store.dailyCounts(t - 86_400_000, t + 86_400_000, 'UTC');
    const byPage: Record<string, number> = {};
    for (const c of counts) byPage[c.pageName] = (byPage[c.pageName] ?? 0) + c.views;
    expect(byPage).toEqual({ '/a': 2, '/b': 1, '/c': 1, [OVERFLOW_PAGE]: 3 });
  });
});
