import { InfluxError } from '../adapters/influx/client.js';
import { AppError } from '../domain/errors.js';

export type UnavailableService = 'InfluxDB' | 'PostgreSQL' | 'Kafka' | 'unknown';

/** An outage error of a client that cannot say whom it was talking to, named by the runtime. */
export class ServiceUnavailableError extends Error {
  constructor(
    readonly service: UnavailableService,
    cause: unknown,
  ) {
    super(`${service} is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ServiceUnavailableError';
  }
}

/** Socket errors of a service that is down, restarting, unreachable or not resolvable yet. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
/** kafkajs: the brokers did not answer (as opposed to refusing a request). */
const KAFKA_UNREACHABLE = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSNoBrokerAvailableError']);
/** What `pg` says when the server goes away or cannot be reached in time. */
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * Which service an error says is unreachable, or undefined when it is any other failure (a bad
 * query, refused credentials, a bug): only an outage is worth a 503 and a retry. Walks `cause`
 * chains and AggregateErrors (a host name with several addresses fails with one of those).
 */
export function unavailableService(err: unknown, depth = 0): UnavailableService | undefined {
  if (typeof err !== 'object' || err === null || depth > 5) return undefined;
  if (err instanceof ServiceUnavailableError) return err.service;
  if (err instanceof InfluxError) return err.status === undefined || err.status >= 500 ? 'InfluxDB' : undefined;
  const e = err as { name?: unknown; code?: unknown; severity?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.name === 'string' && KAFKA_UNREACHABLE.has(e.name)) return 'Kafka';
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return unavailableService(e.cause, depth + 1) ?? 'Kafka';
  // PostgreSQL's own errors: SQLSTATE class 08 (connection exception), 57P01–57P03 (shutting
  // down, crashed, starting up), 53300 (too many connections)
  if (typeof e.severity === 'string' && typeof e.code === 'string') {
    return /^(08|57P0[123]$|53300$)/.test(e.code) ? 'PostgreSQL' : undefined;
  }
  if (typeof e.message === 'string' && PG_MESSAGES.test(e.message)) return 'PostgreSQL';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'unknown';
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = unavailableService(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return unavailableService(e.cause, depth + 1);
}

/** What a client is told while a service is down (the cause is logged, never sent). */
const OUTAGE_MESSAGE: Record<UnavailableService, string> = {
  InfluxDB: 'the event store (InfluxDB) is unavailable; retry later',
  PostgreSQL: 'the rollup store (PostgreSQL) is unavailable; retry later',
  Kafka: 'the event log (Kafka) is unavailable; retry later',
  unknown: 'a store this request needs is unavailable; retry later',
};

/**
 * An outage as a coded error: `store_unavailable` (or `event_log_unavailable` for Kafka), 503
 * with a retry hint, never a 500. Undefined when `err` is no outage.
 */
export function outageError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return undefined;
  const service = unavailableService(err);
  if (service === undefined) return undefined;
  return new AppError(service === 'Kafka' ? 'event_log_unavailable' : 'store_unavailable', OUTAGE_MESSAGE[service], { cause: err, retryAfterSeconds: 5 });
}
