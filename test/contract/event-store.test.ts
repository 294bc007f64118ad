import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/adapters/embedded/event-store.js';
import { openPgliteWorker } from '../../src/adapters/embedded/pglite-worker.js';
import { InfluxEventStore } from '../../src/adapters/influx/event-store.js';
import type { SqlDatabase } from '../../src/adapters/postgres/database.js';
import { startInfluxDB, type InfluxDB } from '../tooling/influxdb.js';
import { eventStoreContract } from './event-store.contract.js';
import { storeName, useSchema } from './isolation.js';

// One server per adapter for the file; each test gets a database or schema of its own in it.
let embedded: SqlDatabase | undefined;
let influx: InfluxDB | undefined;
const influxServer = async (): Promise<InfluxDB> => (influx ??= await startInfluxDB());
afterAll(async () => {
  await embedded?.close();
  await influx?.stop();
});

eventStoreContract('embedded (PGlite in its thread)', async (testName, limits) => {
  embedded ??= await openPgliteWorker(undefined);
  const db = embedded;
  await useSchema(db, `events_${storeName(testName)}`);
  return {
    store: await EmbeddedEventStore.open(db, limits),
    reopen: async () => await EmbeddedEventStore.open(db, limits),
    dispose: async () => {},
  };
});

eventStoreContract('InfluxDB', async (testName, limits) => {
  const server = await influxServer();
  const options = { url: server.url, db: `contract_${storeName(testName)}`, token: undefined, retention: 'INF', ...limits };
  const store = await InfluxEventStore.open(options);
  return { store, reopen: async () => await InfluxEventStore.open(options), dispose: async () => await store.close() };
});

describe('InfluxDB retention', () => {
  it('drops points beyond the retention policy instead of failing the batch forever', async ({ task }) => {
    const server = await influxServer();
    const store = await InfluxEventStore.open({
      url: server.url,
      db: `retention_${storeName(task.name)}`,
      token: undefined,
      retention: '30d',
      maxPageNames: 3,
      maxRegions: 3,
    });
    const old = { timestamp: Date.now() - 60 * 86_400_000, region: 'DE', pageName: '/a', bot: false, partition: 0, offset: '900' };
    await expect(store.write([old])).resolves.toEqual([{ region: 'DE', pageName: '/a' }]);
    await store.close();
  });
});
