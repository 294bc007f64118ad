import { EmbeddedEventStore } from '../../src/adapters/embedded/event-store.js';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded (PGlite)', async () => {
  const db = await openPglite(undefined);
  return { store: await EmbeddedEventStore.open(db), dispose: async () => await db.close() };
});
