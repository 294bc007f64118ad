import { Cron } from 'croner';
import { z } from 'zod';
import { parseDurationMs } from '../domain/duration.js';
import { AppError } from '../domain/errors.js';
import { isValidTimeZone, parseWeekStart, type WeekStart } from '../domain/periods.js';
import { parseTrustProxy, type ProxyTrust } from './proxy-trust.js';

/**
 * The whole configuration, read once from the environment and validated.
 * Nothing else in the code base reads process.env: the typed object is passed down.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: string;
  kafka:
    | {
        brokers: string[];
        topic: string;
        partitions: number;
        /** replicas of each partition when `page-stats migrate` creates the topic */
        replicationFactor: number;
        groupId: string;
        clientId: string;
        sessionTimeoutMs: number;
        /** TLS to the brokers (the system's CAs, plus NODE_EXTRA_CA_CERTS) */
        ssl: boolean;
        /** idempotent producer: `auto` = unless the cluster hands out no producer ids */
        idempotent: boolean | 'auto';
        sasl: KafkaSasl | undefined;
      }
    | undefined;
  influx:
    | {
        url: string;
        db: string;
        token: string | undefined;
        /** InfluxDB 1.x with auth-enabled (HTTP basic auth); 2.x accepts it for v1-authorised users */
        username: string | undefined;
        password: string | undefined;
        retention: string;
      }
    | undefined;
  /** cardinality caps of the event store, in every mode: past them, new names count as `(other)` */
  maxPageNames: number;
  maxRegions: number;
  databaseUrl: string | undefined;
  reportTimeZone: string;
  weekStart: WeekStart;
  consolidateSchedule: string;
  lateArrivalWindowMs: number;
  /** how often a scheduled run recomputes the late-arrival window from the event store instead of folding */
  recomputeIntervalMs: number;
  rateLimitPerMinute: number;
  maxBodyBytes: number;
  admin: { password: string | undefined; token: string | undefined; sessionTtlMs: number };
  /** serialised origins (`https://site.example`), as browsers send them in `Origin` */
  allowedOrigins: string[];
  trustProxy: ProxyTrust;
  /** how long a client may take to send one request, headers and body */
  requestTimeoutMs: number;
  regionHeader: string | undefined;
  processingBatchSize: number;
  shutdownTimeoutMs: number;
}

export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like 48h, 30d or P2D, got "${text}"` });
        return z.NEVER;
      }
      return ms;
    });

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const n = Number(text);
      if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, got "${text}"` });
        return z.NEVER;
      }
      return n;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const list = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );

export const MIN_PASSWORD_LENGTH = 8;

/**
 * `https://Site.example/` → `https://site.example`: browsers send the serialised origin, so a
 * trailing slash or capitals in the setting would otherwise refuse every visitor.
 */
function normaliseOrigin(text: string): string | undefined {
  if (!/^https?:\/\//i.test(text) || !URL.canParse(text)) return undefined;
  const u = new URL(text);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') return undefined;
  return u.origin;
}

const bool = (fallback: boolean) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const v = text.trim().toLowerCase();
      if (v === 'true' || v === 'false') return v === 'true';
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${text}"` });
      return z.NEVER;
    });

const url = (name: string) => optionalText.refine((v) => v === undefined || URL.canParse(v), { message: `${name} must be a URL` });

const EnvSchema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: list,
  KAFKA_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a valid Kafka topic name')
    .default('page_view_events'),
  KAFKA_PARTITIONS: int(3, 1, 10_000),
  KAFKA_REPLICATION_FACTOR: int(3, 1, 100),
  KAFKA_GROUP_ID: z.string().min(1).default('page-stats-processing'),
  KAFKA_CLIENT_ID: z.string().min(1).default('page-stats'),
  KAFKA_SESSION_TIMEOUT: duration('30s'),
  KAFKA_SSL: bool(false),
  KAFKA_IDEMPOTENT: z
    .string()
    .default('auto')
    .transform((text, ctx) => {
      const v = text.trim().toLowerCase();
      if (v === 'auto') return 'auto' as const;
      if (v === 'true' || v === 'false') return v === 'true';
      ctx.addIssue({ code: 'custom', message: `expected auto, true or false, got "${text}"` });
      return z.NEVER;
    }),
  KAFKA_SASL_MECHANISM: optionalText
    .transform((v) => v?.toLowerCase())
    .pipe(z.enum(['plain', 'scram-sha-256', 'scram-sha-512'], { message: 'must be plain, scram-sha-256 or scram-sha-512' }).optional()),
  KAFKA_SASL_USERNAME: optionalText,
  // not trimmed: a password may end in a space
  KAFKA_SASL_PASSWORD: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  INFLUX_URL: url('INFLUX_URL'),
  INFLUX_DB: z.string().min(1).default('page_view_bucket'),
  INFLUX_TOKEN: optionalText,
  INFLUX_USERNAME: optionalText,
  INFLUX_PASSWORD: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  INFLUX_RETENTION: z
    .string()
    .regex(/^(INF|\d+[hdw])$/i, 'must be INF or a duration like 400d')
    .default('INF'),
  MAX_PAGE_NAMES: int(10_000, 1, 10_000_000),
  MAX_REGIONS: int(1_000, 1, 1_000_000),
  DATABASE_URL: url('DATABASE_URL'),
  REPORT_TIMEZONE: z.string().default('UTC').refine(isValidTimeZone, { message: 'must be an IANA time zone such as UTC or Europe/Berlin' }),
  WEEK_START: z
    .string()
    .default('monday')
    .transform((v, ctx) => {
      const day = parseWeekStart(v);
      if (day === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a weekday name (monday … sunday) or 1–7' });
        return z.NEVER;
      }
      return day;
    }),
  CONSOLIDATE_SCHEDULE: z.string().default('*/5 * * * *'),
  LATE_ARRIVAL_WINDOW: duration('48h'),
  // `0`: every scheduled run recomputes the window from the event store (no incremental folds)
  RECOMPUTE_INTERVAL: z
    .string()
    .default('24h')
    .transform((text, ctx) => {
      if (text.trim() === '0') return 0;
      const ms = parseDurationMs(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like 24h or 6h, or 0, got "${text}"` });
        return z.NEVER;
      }
      return ms;
    }),
  RATE_LIMIT_PER_MINUTE: int(600, 0, 100_000_000),
  MAX_BODY_BYTES: int(65_536, 1_024, 10_485_760),
  ADMIN_PASSWORD: optionalText.refine((v) => v === undefined || [...v].length >= MIN_PASSWORD_LENGTH, {
    message: `must be at least ${MIN_PASSWORD_LENGTH} characters`,
  }),
  ADMIN_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  SESSION_TTL: duration('12h'),
  ALLOWED_ORIGINS: list.transform((origins, ctx) => {
    const normalised = origins.map((o) => ({ o, n: normaliseOrigin(o) }));
    const bad = normalised.filter((x) => x.n === undefined).map((x) => `"${x.o}"`);
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `expected origins like https://site.example (scheme, host, optional port; no path), got ${bad.join(', ')}` });
      return z.NEVER;
    }
    return [...new Set(normalised.map((x) => x.n!))];
  }),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, ctx): ProxyTrust => {
      const parsed = parseTrustProxy(v);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.message });
        return z.NEVER;
      }
      return parsed.value;
    }),
  REQUEST_TIMEOUT: duration('30s'),
  REGION_HEADER: optionalText.transform((v) => v?.toLowerCase()),
  PROCESSING_BATCH_SIZE: int(2_000, 1, 100_000),
  SHUTDOWN_TIMEOUT: duration('15s'),
});

/** A bad setting: `config_invalid`, with one detail per problem, each naming its variable. */
export class ConfigError extends AppError {
  constructor(problems: string[]) {
    super('config_invalid', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { details: problems });
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems = crossChecks(e);
  if (problems.length > 0) throw new ConfigError(problems);
  try {
    new Cron(e.CONSOLIDATE_SCHEDULE, { paused: true, timezone: e.REPORT_TIMEZONE }).stop();
  } catch (err) {
    throw new ConfigError([`CONSOLIDATE_SCHEDULE: expected cron syntax such as "*/5 * * * *", got "${e.CONSOLIDATE_SCHEDULE}" (${(err as Error).message})`]);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    kafka:
      e.KAFKA_BROKERS.length === 0
        ? undefined
        : {
            brokers: e.KAFKA_BROKERS,
            topic: e.KAFKA_TOPIC,
            partitions: e.KAFKA_PARTITIONS,
            replicationFactor: e.KAFKA_REPLICATION_FACTOR,
            groupId: e.KAFKA_GROUP_ID,
            clientId: e.KAFKA_CLIENT_ID,
            sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT,
            ssl: e.KAFKA_SSL,
            idempotent: e.KAFKA_IDEMPOTENT,
            sasl:
              e.KAFKA_SASL_MECHANISM === undefined
                ? undefined
                : { mechanism: e.KAFKA_SASL_MECHANISM, username: e.KAFKA_SASL_USERNAME!, password: e.KAFKA_SASL_PASSWORD! },
          },
    influx:
      e.INFLUX_URL === undefined
        ? undefined
        : {
            url: e.INFLUX_URL,
            db: e.INFLUX_DB,
            token: e.INFLUX_TOKEN,
            username: e.INFLUX_USERNAME,
            password: e.INFLUX_PASSWORD,
            retention: e.INFLUX_RETENTION.toUpperCase() === 'INF' ? 'INF' : e.INFLUX_RETENTION,
          },
    maxPageNames: e.MAX_PAGE_NAMES,
    maxRegions: e.MAX_REGIONS,
    databaseUrl: e.DATABASE_URL,
    reportTimeZone: e.REPORT_TIMEZONE,
    weekStart: e.WEEK_START,
    consolidateSchedule: e.CONSOLIDATE_SCHEDULE,
    lateArrivalWindowMs: e.LATE_ARRIVAL_WINDOW,
    recomputeIntervalMs: e.RECOMPUTE_INTERVAL,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    maxBodyBytes: e.MAX_BODY_BYTES,
    admin: { password: e.ADMIN_PASSWORD, token: e.ADMIN_TOKEN, sessionTtlMs: e.SESSION_TTL },
    allowedOrigins: e.ALLOWED_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    requestTimeoutMs: e.REQUEST_TIMEOUT,
    regionHeader: e.REGION_HEADER,
    processingBatchSize: e.PROCESSING_BATCH_SIZE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
  };
}

/** Settings that only make sense together. */
function crossChecks(e: z.infer<typeof EnvSchema>): string[] {
  const problems: string[] = [];
  if (e.KAFKA_SASL_MECHANISM !== undefined && (e.KAFKA_SASL_USERNAME === undefined || e.KAFKA_SASL_PASSWORD === undefined)) {
    problems.push(`KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: both are required with KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}`);
  }
  if (e.KAFKA_SASL_MECHANISM === undefined && (e.KAFKA_SASL_USERNAME !== undefined || e.KAFKA_SASL_PASSWORD !== undefined)) {
    problems.push('KAFKA_SASL_MECHANISM: set it (plain, scram-sha-256 or scram-sha-512) to use KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  }
  if ((e.INFLUX_USERNAME === undefined) !== (e.INFLUX_PASSWORD === undefined)) {
    problems.push('INFLUX_USERNAME, INFLUX_PASSWORD: set both or neither');
  }
  if (e.INFLUX_TOKEN !== undefined && e.INFLUX_USERNAME !== undefined) {
    problems.push('INFLUX_TOKEN: set either a token (InfluxDB 2.x/3.x) or INFLUX_USERNAME and INFLUX_PASSWORD (1.x), not both');
  }
  return problems;
}
