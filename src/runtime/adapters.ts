import { join } from 'node:path';
import type { Logger } from 'pino';
import { EmbeddedBus } from '../adapters/embedded/bus.js';
import { EmbeddedEventStore } from '../adapters/embedded/event-store.js';
import type { SqlDatabase } from '../adapters/postgres/database.js';
import { openPostgres } from '../adapters/postgres/pg.js';
import { openPglite } from '../adapters/postgres/pglite.js';
import { SqlRollupStore } from '../adapters/postgres/rollup-store.js';
import type { EventConsumer, EventPublisher } from '../ports/event-bus.js';
import type { EventStore } from '../ports/event-store.js';
import type { RollupStore } from '../ports/rollup-store.js';
import type { Config } from './config.js';
import { lockDataDir } from './data-dir-lock.js';

/**
 * The only place that picks adapters: a store whose variable is unset is embedded, and every
 * embedded store lives in one PGlite database in DATA_DIR, opened on first use.
 */
export class Adapters {
  private embedded: Promise<SqlDatabase> | undefined;
  private unlock: (() => void) | undefined;
  private bus: Promise<EmbeddedBus> | undefined;
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  get usesEmbedded(): boolean {
    return this.config.kafka === undefined || this.config.influx === undefined || this.config.databaseUrl === undefined;
  }

  private embeddedDb(): Promise<SqlDatabase> {
    this.embedded ??= (async () => {
      this.unlock = lockDataDir(this.config.dataDir);
      const db = await openPglite(join(this.config.dataDir, 'pglite'));
      this.logger.info({ dataDir: this.config.dataDir }, 'embedded_database_opened');
      return db;
    })();
    return this.embedded;
  }

  private embeddedBus(): Promise<EmbeddedBus> {
    this.bus ??= (async () => {
      const bus = await EmbeddedBus.open(await this.embeddedDb(), {
        batchSize: this.config.processingBatchSize,
        onBatchError: (err, attempt) => this.logger.warn({ err, attempt }, 'processing_batch_failed'),
      });
      this.closers.push(async () => await bus.close());
      return bus;
    })();
    return this.bus;
  }

  async publisher(): Promise<EventPublisher> {
    if (this.config.kafka !== undefined) throw new Error('the Kafka adapter is not available in this build');
    return await this.embeddedBus();
  }

  async consumer(): Promise<EventConsumer> {
    if (this.config.kafka !== undefined) throw new Error('the Kafka adapter is not available in this build');
    return await this.embeddedBus();
  }

  async eventStore(): Promise<EventStore> {
    if (this.config.influx !== undefined) throw new Error('the InfluxDB adapter is not available in this build');
    return await EmbeddedEventStore.open(await this.embeddedDb());
  }

  async rollupStore(): Promise<RollupStore> {
    if (this.config.databaseUrl !== undefined) {
      const db = openPostgres(this.config.databaseUrl);
      const store = new SqlRollupStore(db);
      this.closers.push(async () => await store.close());
      return store;
    }
    return new SqlRollupStore(await this.embeddedDb());
  }

  /** Closes what was opened, the shared embedded database last. */
  async close(): Promise<void> {
    for (const close of this.closers.reverse()) {
      await close().catch((err: unknown) => this.logger.error({ err }, 'adapter_close_failed'));
    }
    if (this.embedded !== undefined) {
      await (await this.embedded).close();
      this.unlock?.();
    }
  }
}
