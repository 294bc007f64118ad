import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { EmbeddedBus } from '../adapters/embedded/bus.js';
import { EmbeddedEventStore } from '../adapters/embedded/event-store.js';
import { InfluxEventStore } from '../adapters/influx/event-store.js';
import { createKafka, requireTopic, TopicMissingError } from '../adapters/kafka/client.js';
import { KafkaEventConsumer } from '../adapters/kafka/consumer.js';
import { KafkaPublisher } from '../adapters/kafka/publisher.js';
import type { SqlDatabase } from '../adapters/postgres/database.js';
import { openPostgres, ROLLUP_SESSION } from '../adapters/postgres/pg.js';
import { moveEventLog } from '../adapters/embedded/log-upgrade.js';
import { openPgliteWorker } from '../adapters/embedded/pglite-worker.js';
import { SqlRollupStore } from '../adapters/postgres/rollup-store.js';
import { SqlSessionStore } from '../adapters/sessions/sql-session-store.js';
import type { EventConsumer, EventPublisher } from '../ports/event-bus.js';
import type { EventStore } from '../ports/event-store.js';
import type { RollupStore } from '../ports/rollup-store.js';
import type { SessionStore } from '../ports/session-store.js';
import type { Config } from './config.js';
import { ServiceUnavailableError, unavailableService, type UnavailableService } from './unavailable.js';
import { lockDataDir } from './data-dir-lock.js';
import { restrictDataDir } from './data-dir-permissions.js';

/**
 * The only place that picks adapters: a store whose variable is unset is embedded, and every
 * embedded store lives in one PGlite database in DATA_DIR, opened on first use.
 */
export class Adapters {
  private embedded: Promise<SqlDatabase> | undefined;
  private embeddedLog: Promise<SqlDatabase> | undefined;
  private unlock: (() => void) | undefined;
  private bus: Promise<EmbeddedBus> | undefined;
  private kafka: Promise<Kafka> | undefined;
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly registry?: Registry,
  ) {}

  get usesEmbedded(): boolean {
    return this.config.kafka === undefined || this.config.influx === undefined || this.config.databaseUrl === undefined;
  }

  private embeddedDb(): Promise<SqlDatabase> {
    this.embedded ??= (async () => {
      this.unlock = lockDataDir(this.config.dataDir);
      restrictDataDir(this.config.dataDir);
      const db = await openPgliteWorker(join(this.config.dataDir, 'pglite'));
      restrictDataDir(this.config.dataDir);
      this.logger.info({ dataDir: this.config.dataDir }, 'embedded_database_opened');
      return db;
    })();
    return this.embedded;
  }

  /**
   * The embedded event log has a database (and a thread) of its own: a page view commits there
   * while the other database is busy with a consolidation or a large query.
   */
  private embeddedLogDb(): Promise<SqlDatabase> {
    this.embeddedLog ??= (async () => {
      await this.embeddedDb(); // takes the DATA_DIR lock first
      const log = await openPgliteWorker(join(this.config.dataDir, 'log'));
      restrictDataDir(this.config.dataDir);
      return log;
    })();
    return this.embeddedLog;
  }

  private embeddedBus(): Promise<EmbeddedBus> {
    this.bus ??= (async () => {
      const log = await this.embeddedLogDb();
      const bus = await EmbeddedBus.open(log, {
        batchSize: this.config.processingBatchSize,
        onBatchError: (err, attempt) => this.logger.warn({ err, attempt }, 'processing_batch_failed'),
      });
      await moveEventLog(await this.embeddedDb(), log);
      this.closers.push(async () => await bus.close());
      return bus;
    })();
    return this.bus;
  }

  private kafkaClient(settings: NonNullable<Config['kafka']>): Promise<Kafka> {
    this.kafka ??= (async () => {
      const kafka = createKafka(settings, this.logger);
      try {
        await requireTopic(kafka, settings);
      } catch (err) {
        // A missing topic stops start-up: `page-stats migrate` creates it. Brokers that are down
        // do not: ingest answers 503 until they are back.
        if (err instanceof TopicMissingError) throw err;
        this.logger.warn({ err, topic: settings.topic }, 'kafka_topic_check_failed');
      }
      return kafka;
    })();
    return this.kafka;
  }

  async publisher(): Promise<EventPublisher> {
    const settings = this.config.kafka;
    if (settings === undefined) return await this.embeddedBus();
    const publisher = new KafkaPublisher(await this.kafkaClient(settings), this.logger, {
      topic: settings.topic,
      idempotent: settings.idempotent,
      ...(this.registry ? { registry: this.registry } : {}),
    });
    this.closers.push(async () => await publisher.close());
    return publisher;
  }

  async consumer(): Promise<EventConsumer> {
    const settings = this.config.kafka;
    if (settings === undefined) return await this.embeddedBus();
    const consumer = new KafkaEventConsumer(await this.kafkaClient(settings), this.logger, {
      topic: settings.topic,
      groupId: settings.groupId,
      batchSize: this.config.processingBatchSize,
      sessionTimeoutMs: settings.sessionTimeoutMs,
    });
    this.closers.push(async () => await consumer.stop());
    return consumer;
  }

  async eventStore(): Promise<EventStore> {
    const influx = this.config.influx;
    const limits = { maxPageNames: this.config.maxPageNames, maxRegions: this.config.maxRegions };
    if (influx === undefined) return await EmbeddedEventStore.open(await this.embeddedDb(), limits);
    return await InfluxEventStore.open({ ...influx, ...limits });
  }

  /**
   * Dashboard sessions live next to the rollups: every replica of the admin API shares them.
   * On PostgreSQL the store opens on first use, so ingest starts while PostgreSQL is down.
   */
  async sessionStore(): Promise<SessionStore> {
    if (this.config.databaseUrl !== undefined) {
      const db = namingOutages(openPostgres(this.config.databaseUrl, { max: 2 }), 'PostgreSQL');
      this.closers.push(async () => await db.close());
      return lazySessionStore(() => SqlSessionStore.open(db));
    }
    return await SqlSessionStore.open(await this.embeddedDb());
  }

  async rollupStore(): Promise<RollupStore> {
    if (this.config.databaseUrl !== undefined) {
      const db = namingOutages(openPostgres(this.config.databaseUrl, { settings: ROLLUP_SESSION }), 'PostgreSQL');
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
    if (this.embeddedLog !== undefined) await (await this.embeddedLog).close();
    if (this.embedded !== undefined) {
      await (await this.embedded).close();
      this.unlock?.();
    }
  }
}

/** A session store opened on first use; an open that failed is tried again on the next call. */
function lazySessionStore(open: () => Promise<SessionStore>): SessionStore {
  let opened: Promise<SessionStore> | undefined;
  const store = (): Promise<SessionStore> => {
    opened ??= open().catch((err: unknown) => {
      opened = undefined;
      throw err;
    });
    return opened;
  };
  return {
    create: async (idHash, expiresAt, now) => await (await store()).create(idHash, expiresAt, now),
    isActive: async (idHash, now) => await (await store()).isActive(idHash, now),
    revoke: async (idHash) => await (await store()).revoke(idHash),
  };
}

/**
 * `pg` reports a server that is down as a bare socket error (ECONNREFUSED): name the service on
 * such errors, so an admin route's 503 can say which store is down. Other errors pass as they are.
 */
function namingOutages(db: SqlDatabase, service: UnavailableService): SqlDatabase {
  const named = (err: unknown): never => {
    throw unavailableService(err) === undefined ? err : new ServiceUnavailableError(service, err);
  };
  return {
    query: async <T,>(sql: string, params?: readonly unknown[]) => await db.query<T>(sql, params).catch(named),
    transaction: async (work) => await db.transaction(work).catch(named),
    close: async () => await db.close(),
  };
}
