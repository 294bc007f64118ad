import { EmbeddedBus } from '../../src/adapters/embedded/bus.js';
import { openPglite } from '../../src/adapters/postgres/pglite.js';
import { eventBusContract } from './event-bus.contract.js';

eventBusContract('embedded (PGlite log)', async () => {
  const db = await openPglite(undefined);
  const publisher = await EmbeddedBus.open(db, { batchSize: 64 });
  return {
    publisher,
    consumer: async () => await EmbeddedBus.open(db, { batchSize: 64 }),
    dispose: async () => {
      await publisher.close();
      await db.close();
    },
  };
});
