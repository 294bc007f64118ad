import { EmbeddedEventStore } from '../../src/adapters/embedded/event-store.js';
import { openPgliteWorker } from '../../src/adapters/embedded/pglite-worker.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded (PGlite in its thread)', async (limits) => {
  const db = await openPgliteWorker(undefined);
  return {
    store: await EmbeddedEventStore.open(db, limits),
    reopen: async () => await EmbeddedEventStore.open(db, limits),
    dispose: async () => await db.close(),
  };
});

import { afterAll, describe, expect, it } from 'vitest';
import { InfluxEventStore } from '../../src/adapters/influx/event-store.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';

let influx: InfluxDB | undefined;
const influxServer = async (): Promise<InfluxDB> => (influx ??= await startInfluxDB());
afterAll(async () => await influx?.stop());

let dbCounter = 0;
eventStoreContract('InfluxDB', async (limits) => {
  const server = await influxServer();
  const options = { url: server.url, db: `contract_${process.pid}_${dbCounter++}`, token: undefined, retention: 'INF', ...limits };
  const store = await InfluxEventStore.open(options);
  return { store, reopen: async () => await InfluxEventStore.open(options), dispose: async () => await store.close() };
});

describe('InfluxDB retention', () => {
  it('drops points beyond the retention policy instead of failing the batch forever', async () => {
    const server = await influxServer();
    const store = await InfluxEventStore.open({ url: server.url, db: `retention_${process.pid}`, token: undefined, retention: '30d', maxPageNames: 3, maxRegions: 3 });
    const old = { timestamp: Date.now() - 60 * 86_400_000, region: 'DE', pageName: '/a', bot: false, partition: 0, offset: '900' };
    await expect(store.write([old])).resolves.toEqual([{ region: 'DE', pageName: '/a' }]);
  });
});
