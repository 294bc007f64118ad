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
import { findRunningServer } from './local-control.js';
import { restrictDataDir } from './data-dir-permissions.js';

/**
 * The only place that picks adapters: a store whose variable is unset is embedded, and every
 * embedded store lives in one PGlite database in DATA_DIR, opened on first use. Every adapter is
 * opened once, however many roles ask for it, and closed once, in the reverse order of opening,
 * the shared embedded databases last.
 */
export class Adapters {
  private readonly opened = new Map<string, Promise<unknown>>();
  private readonly closers: Array<{ name: string; close: () => Promise<void> }> = [];
  private unlock: (() => void) | undefined;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly registry?: Registry,
  ) {}

  get usesEmbedded(): boolean {
    return this.config.kafka === undefined || this.config.influx === undefined || this.config.databaseUrl === undefined;
  }

  /**
   * The server running on this DATA_DIR, when this configuration needs its embedded database:
   * that server holds the database, so one-shot commands (consolidate, import, export) ask it.
   */
  runningServer(): ReturnType<typeof findRunningServer> {
    return this.usesEmbedded ? findRunningServer(this.config.dataDir) : undefined;
  }

  /** Opens `name` on first use; `close` (when the adapter is opened) runs once, at close(). */
  private once<T>(name: string, open: () => Promise<T>, close?: (adapter: T) => Promise<void>): Promise<T> {
    let adapter = this.opened.get(name) as Promise<T> | undefined;
    if (adapter === undefined) {
      adapter = open().then((a) => {
        if (close !== undefined) this.closers.push({ name, close: async () => await close(a) });
        return a;
      });
      this.opened.set(name, adapter);
    }
    return adapter;
  }

  private embeddedDb(): Promise<SqlDatabase> {
    return this.once(
      'embedded database',
      async () => {
        this.unlock = lockDataDir(this.config.dataDir);
        restrictDataDir(this.config.dataDir);
        const db = await openPgliteWorker(join(this.config.dataDir, 'pglite'));
        restrictDataDir(this.config.dataDir);
        this.logger.info({ dataDir: this.config.dataDir }, 'embedded_database_opened');
        return db;
      },
      async (db) => {
        await db.close();
        this.unlock?.();
      },
    );
  }

  /**
   * The embedded event log has a database (and a thread) of its own: a page view commits there
   * while the other database is busy with a consolidation or a large query.
   */
  private embeddedLogDb(): Promise<SqlDatabase> {
    return this.once(
      'embedded event log database',
      async () => {
        await this.embeddedDb(); // takes the DATA_DIR lock first
        const log = await openPgliteWorker(join(this.config.dataDir, 'log'));
        restrictDataDir(this.config.dataDir);
        return log;
      },
      async (log) => await log.close(),
    );
  }

  private embeddedBus(): Promise<EmbeddedBus> {
    return this.once(
      'embedded bus',
      async () => {
        const log = await this.embeddedLogDb();
        const bus = await EmbeddedBus.open(log, {
          batchSize: this.config.processingBatchSize,
          ...(this.registry ? { registry: this.registry } : {}),
          onBatchError: (err, attempt) => this.logger.warn({ err, attempt }, 'processing_batch_failed'),
        });
        await moveEventLog(await this.embeddedDb(), log);
        return bus;
      },
      async (bus) => await bus.close(),
    );
  }

  private kafkaClient(settings: NonNullable<Config['kafka']>): Promise<Kafka> {
    return this.once('kafka client', async () => {
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
    });
  }

  publisher(): Promise<EventPublisher> {
    const settings = this.config.kafka;
    if (settings === undefined) return this.embeddedBus();
    return this.once(
      'kafka publisher',
      async () =>
        new KafkaPublisher(await this.kafkaClient(settings), this.logger, {
          topic: settings.topic,
          idempotent: settings.idempotent,
          ...(this.registry ? { registry: this.registry } : {}),
        }),
      async (publisher) => await publisher.close(),
    );
  }

  consumer(): Promise<EventConsumer> {
    const settings = this.config.kafka;
    if (settings === undefined) return this.embeddedBus();
    return this.once(
      'kafka consumer',
      async () =>
        new KafkaEventConsumer(await this.kafkaClient(settings), this.logger, {
          topic: settings.topic,
          groupId: settings.groupId,
          batchSize: this.config.processingBatchSize,
          sessionTimeoutMs: settings.sessionTimeoutMs,
        }),
      async (consumer) => await consumer.stop(),
    );
  }

  eventStore(): Promise<EventStore> {
    const influx = this.config.influx;
    const limits = { maxPageNames: this.config.maxPageNames, maxRegions: this.config.maxRegions };
    if (influx === undefined) return this.once('embedded event store', async () => await EmbeddedEventStore.open(await this.embeddedDb(), limits));
    return this.once(
      'influxdb event store',
      async () => await InfluxEventStore.open({ ...influx, ...limits }),
      async (store) => await store.close(),
    );
  }

  /**
   * Dashboard sessions live next to the rollups: every replica of the admin API shares them.
   * On PostgreSQL the store opens on first use, so ingest starts while PostgreSQL is down.
   */
  sessionStore(): Promise<SessionStore> {
    const url = this.config.databaseUrl;
    if (url === undefined) return this.once('embedded session store', async () => await SqlSessionStore.open(await this.embeddedDb()));
    return this.once('postgresql session store', async () => {
      const db = namingOutages(openPostgres(url, { max: 2 }), 'PostgreSQL');
      this.closers.push({ name: 'postgresql session pool', close: async () => await db.close() });
      return lazySessionStore(() => SqlSessionStore.open(db));
    });
  }

  rollupStore(): Promise<RollupStore> {
    const url = this.config.databaseUrl;
    if (url === undefined) return this.once('embedded rollup store', async () => new SqlRollupStore(await this.embeddedDb()));
    return this.once(
      'postgresql rollup store',
      async () => new SqlRollupStore(namingOutages(openPostgres(url, { settings: ROLLUP_SESSION }), 'PostgreSQL')),
      async (store) => await store.close(),
    );
  }

  /** Closes what was opened, each once, in the reverse order of opening (the embedded databases were opened first). */
  async close(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    this.opened.clear();
    for (const { name, close } of closers) {
      await close().catch((err: unknown) => this.logger.error({ err, adapter: name }, 'adapter_close_failed'));
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
    query: async <T>(sql: string, params?: readonly unknown[]) => await db.query<T>(sql, params).catch(named),
    transaction: async (work) => await db.transaction(work).catch(named),
    close: async () => await db.close(),
  };
}
