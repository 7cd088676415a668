/**
 * Process configuration: environment variables parsed once, at start-up, with zod. A bad value stops the
 * process with a message naming every bad variable and why. Functions never read `process.env`; the entry
 * points read a `Config` and inject what each part needs.
 * @module
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { LogLevel } from './logger.ts';
import { redactUrl } from './redact.ts';

/** Where a service's database lives, decided from `DATABASE_URL` / `<SERVICE>_DATABASE_URL` / `DATA_DIR`. */
export type DatabaseTarget =
  | { dialect: 'pglite' /** undefined = in memory */; dataDir: string | undefined }
  | { dialect: 'postgres'; url: string }
  | { dialect: 'mssql'; url: string };

export interface Config {
  /** `KAFKA_BROKERS`: host:port list; undefined = start the embedded broker. */
  kafkaBrokers: readonly string[] | undefined;
  kafkaClientId: string;
  topicPartitions: number;
  /**
   * `KAFKA_SESSION_TIMEOUT_MS`: how long the group coordinator waits for a silent consumer before it gives its
   * partitions to others; also how long a restarted consumer can wait for its dead predecessor to be evicted.
   * undefined = kafkajs' default (30 s).
   */
  kafkaSessionTimeoutMs: number | undefined;
  /** `KAFKA_HEARTBEAT_INTERVAL_MS`; when only the session timeout is set, a third of it (at most kafkajs' 3 s). */
  kafkaHeartbeatIntervalMs: number | undefined;
  /** `CONSUMER_RETRY_ATTEMPTS`: overrides every event function's `retryPolicy.attempts` when set. */
  consumerRetryAttempts: number | undefined;
  /**
   * `CONSUMER_PARTITIONS_CONCURRENTLY`: partitions each consumer handles in parallel; undefined = the partitions
   * of its topics, at most 8 and its store's pool size, or 1 without a pool (PGlite; `runtime/kafka/consumer.ts`).
   */
  consumerPartitionsConcurrently: number | undefined;
  /** `DATABASE_URL`: undefined = PGlite. */
  databaseUrl: string | undefined;
  /** Per-service overrides of `databaseUrl` (`ORDERS_DATABASE_URL`, `PAYMENTS_DATABASE_URL`). */
  serviceDatabaseUrls: Readonly<Record<string, string>>;
  port: number;
  host: string;
  logLevel: LogLevel;
  /** PGlite data directory (one sub-directory per service); `memory://` keeps data in memory. */
  dataDir: string;
  /** Decimal string, e.g. "300": the simulated provider declines payments above it. */
  paymentLimit: string;
  /** `PAYMENT_PROVIDER_URL`: the HTTP payment provider's base URL; undefined = the simulated provider. */
  paymentProviderUrl: string | undefined;
  /** `PAYMENT_PROVIDER_TIMEOUT_MS`: longest wait for one charge request to the HTTP provider. */
  paymentProviderTimeoutMs: number;
  notifyWebhookUrl: string | undefined;
  httpBodyLimit: number;
  outboxPollMs: number;
  shutdownTimeoutMs: number;
  /** `IDEMPOTENCY_KEY_TTL_MS`: how long create-order remembers an `Idempotency-Key` (default 24 h). */
  idempotencyKeyTtlMs: number;
  /** `OUTBOX_MAX_FAILURES`: failed publishes charged to one outbox row before the relay parks it. */
  outboxMaxFailures: number;
  /** `OUTBOX_RETENTION`, `INBOX_RETENTION`, `ATTEMPTS_RETENTION`: how long done rows stay before pruning. */
  retention: { outboxMs: number; inboxMs: number; attemptsMs: number };
  /** `PRUNE_INTERVAL_MS`: pause between pruning rounds; 0 turns pruning off. */
  pruneIntervalMs: number;
  /** `PRUNE_BATCH_SIZE`: most rows deleted per table per pruning round. */
  pruneBatchSize: number;
  /** `OPS_TOKEN`: bearer token of the `/ops` routes; undefined = not mounted (`npm start` generates one). */
  opsToken: string | undefined;
  /** `DLQ_MAX_REDRIVES`: how many times one dead letter may be redriven before redrive refuses it. */
  dlqMaxRedrives: number;
  /** `MIGRATE_ON_START`: `serve` applies pending migrations itself instead of only checking the schema version. */
  migrateOnStart: boolean;
}

/** The variables `loadConfig` reads. */
export const CONFIG_VARIABLES = [
  'KAFKA_BROKERS',
  'KAFKA_CLIENT_ID',
  'TOPIC_PARTITIONS',
  'KAFKA_SESSION_TIMEOUT_MS',
  'KAFKA_HEARTBEAT_INTERVAL_MS',
  'CONSUMER_RETRY_ATTEMPTS',
  'CONSUMER_PARTITIONS_CONCURRENTLY',
  'DATABASE_URL',
  'ORDERS_DATABASE_URL',
  'PAYMENTS_DATABASE_URL',
  'PORT',
  'HOST',
  'LOG_LEVEL',
  'DATA_DIR',
  'PAYMENT_LIMIT',
  'PAYMENT_PROVIDER_URL',
  'PAYMENT_PROVIDER_TIMEOUT_MS',
  'NOTIFY_WEBHOOK_URL',
  'HTTP_BODY_LIMIT',
  'OUTBOX_POLL_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'IDEMPOTENCY_KEY_TTL_MS',
  'OUTBOX_MAX_FAILURES',
  'OUTBOX_RETENTION',
  'INBOX_RETENTION',
  'ATTEMPTS_RETENTION',
  'PRUNE_INTERVAL_MS',
  'PRUNE_BATCH_SIZE',
  'OPS_TOKEN',
  'DLQ_MAX_REDRIVES',
  'MIGRATE_ON_START',
] as const;
type Variable = (typeof CONFIG_VARIABLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DATABASE_SCHEMES = ['postgres://', 'postgresql://', 'mssql://', 'sqlserver://'];
export const IN_MEMORY_DATA_DIR = 'memory://';

const int = (min: number, max: number) =>
  z
    .string()
    .refine((s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, {
      error: `must be an integer between ${min} and ${max}`,
    })
    .transform(Number);

const databaseUrl = z
  .string()
  .refine((s) => DATABASE_SCHEMES.some((scheme) => s.toLowerCase().startsWith(scheme)), {
    error: `must start with ${DATABASE_SCHEMES.join(', ')}`,
  });

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `15m`, `36h`, `7d` (a number and a unit) → milliseconds, at least `minMs`. */
const duration = (minMs: number) =>
  z
    .string()
    .regex(/^\d+(ms|s|m|h|d)$/, { error: 'must be a number with a unit: ms, s, m, h or d (e.g. "7d")' })
    .transform((s) => {
      const [, n, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(s)!;
      return Number(n) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    })
    .refine((ms) => ms >= minMs && ms <= 3650 * DURATION_UNITS_MS.d, {
      error: `must be between ${minMs / 60_000} minute(s) and 3650d`,
    });

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;

/** kafkajs' own heartbeat interval, used when only the session timeout is configured and it allows. */
const KAFKAJS_HEARTBEAT_INTERVAL_MS = 3_000;

const schema = z.object({
  KAFKA_BROKERS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== ''),
    )
    .refine((list) => list.length > 0 && list.every((b) => hostPort.test(b)), {
      error: 'must be a comma-separated list of host:port',
    })
    .optional(),
  KAFKA_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, { error: 'must be 1-100 of A-Z a-z 0-9 . _ -' })
    .default('orderflow'),
  TOPIC_PARTITIONS: int(1, 1000).default(3),
  KAFKA_SESSION_TIMEOUT_MS: int(1_000, 3_600_000).optional(),
  KAFKA_HEARTBEAT_INTERVAL_MS: int(100, 3_600_000).optional(),
  CONSUMER_RETRY_ATTEMPTS: int(1, 100).optional(),
  CONSUMER_PARTITIONS_CONCURRENTLY: int(1, 1000).optional(),
  DATABASE_URL: databaseUrl.optional(),
  ORDERS_DATABASE_URL: databaseUrl.optional(),
  PAYMENTS_DATABASE_URL: databaseUrl.optional(),
  PORT: int(0, 65535).default(5000),
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]+$/, { error: 'must be a host name or IP address' })
    .default('0.0.0.0'),
  LOG_LEVEL: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('info'),
  DATA_DIR: z.string().default('.data'),
  PAYMENT_LIMIT: z
    .string()
    .regex(/^(0|[1-9]\d*)(\.\d+)?$/, { error: 'must be a non-negative decimal such as "300" or "299.99"' })
    .default('300'),
  PAYMENT_PROVIDER_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional(),
  PAYMENT_PROVIDER_TIMEOUT_MS: int(1, 600_000).default(5_000),
  NOTIFY_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  HTTP_BODY_LIMIT: int(1, 100 * 1024 * 1024).default(65_536),
  OUTBOX_POLL_MS: int(10, 3_600_000).default(1000),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  // 1 s to 30 days; Stripe's 24 h by default.
  IDEMPOTENCY_KEY_TTL_MS: int(1_000, 30 * 86_400_000).default(86_400_000),
  OUTBOX_MAX_FAILURES: int(1, 1_000).default(10),
  OUTBOX_RETENTION: duration(60_000).default(86_400_000),
  INBOX_RETENTION: duration(60_000).default(7 * 86_400_000),
  ATTEMPTS_RETENTION: duration(60_000).default(7 * 86_400_000),
  PRUNE_INTERVAL_MS: int(0, 86_400_000).default(60_000),
  PRUNE_BATCH_SIZE: int(1, 100_000).default(1_000),
  OPS_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  DLQ_MAX_REDRIVES: int(0, 1_000).default(3),
  MIGRATE_ON_START: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((s) => s === 'true')
    .optional(),
});

/** One bad variable: `{ variable: 'PORT', message: 'must be an integer between 0 and 65535 (got "abc")' }`. */
export interface ConfigIssue {
  variable: string;
  message: string;
}

/** The environment does not describe a runnable process. The message names each bad variable. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Parses the configuration from environment variables (empty values count as unset).
 * @throws ConfigError naming each bad variable, e.g. `PORT: must be an integer between 0 and 65535 (got "abc")`.
 * @example
 * const config = exitOnConfigError(() => loadConfig());
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Partial<Record<Variable, string>> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      const raw = input[variable as Variable];
      return {
        variable,
        message:
          raw === undefined || variable === 'OPS_TOKEN'
            ? issue.message
            : `${issue.message} (got ${JSON.stringify(redactUrl(raw))})`,
      };
    });
    throw new ConfigError(issues);
  }
  const v = parsed.data;
  if (
    v.KAFKA_HEARTBEAT_INTERVAL_MS !== undefined &&
    v.KAFKA_HEARTBEAT_INTERVAL_MS >= (v.KAFKA_SESSION_TIMEOUT_MS ?? 30_000)
  ) {
    throw new ConfigError([
      {
        variable: 'KAFKA_HEARTBEAT_INTERVAL_MS',
        message: `must be less than KAFKA_SESSION_TIMEOUT_MS (default 30000) (got "${v.KAFKA_HEARTBEAT_INTERVAL_MS}")`,
      },
    ]);
  }
  const serviceDatabaseUrls: Record<string, string> = {};
  if (v.ORDERS_DATABASE_URL !== undefined) serviceDatabaseUrls.orders = v.ORDERS_DATABASE_URL;
  if (v.PAYMENTS_DATABASE_URL !== undefined) serviceDatabaseUrls.payments = v.PAYMENTS_DATABASE_URL;
  return Object.freeze({
    kafkaBrokers: v.KAFKA_BROKERS === undefined ? undefined : Object.freeze(v.KAFKA_BROKERS),
    kafkaClientId: v.KAFKA_CLIENT_ID,
    topicPartitions: v.TOPIC_PARTITIONS,
    kafkaSessionTimeoutMs: v.KAFKA_SESSION_TIMEOUT_MS,
    kafkaHeartbeatIntervalMs:
      v.KAFKA_HEARTBEAT_INTERVAL_MS ??
      (v.KAFKA_SESSION_TIMEOUT_MS === undefined
        ? undefined
        : Math.min(KAFKAJS_HEARTBEAT_INTERVAL_MS, Math.floor(v.KAFKA_SESSION_TIMEOUT_MS / 3))),
    consumerRetryAttempts: v.CONSUMER_RETRY_ATTEMPTS,
    consumerPartitionsConcurrently: v.CONSUMER_PARTITIONS_CONCURRENTLY,
    databaseUrl: v.DATABASE_URL,
    serviceDatabaseUrls: Object.freeze(serviceDatabaseUrls),
    port: v.PORT,
    host: v.HOST,
    logLevel: v.LOG_LEVEL,
    dataDir: v.DATA_DIR,
    paymentLimit: v.PAYMENT_LIMIT,
    paymentProviderUrl: v.PAYMENT_PROVIDER_URL,
    paymentProviderTimeoutMs: v.PAYMENT_PROVIDER_TIMEOUT_MS,
    notifyWebhookUrl: v.NOTIFY_WEBHOOK_URL,
    httpBodyLimit: v.HTTP_BODY_LIMIT,
    outboxPollMs: v.OUTBOX_POLL_MS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    idempotencyKeyTtlMs: v.IDEMPOTENCY_KEY_TTL_MS,
    outboxMaxFailures: v.OUTBOX_MAX_FAILURES,
    retention: Object.freeze({
      outboxMs: v.OUTBOX_RETENTION,
      inboxMs: v.INBOX_RETENTION,
      attemptsMs: v.ATTEMPTS_RETENTION,
    }),
    pruneIntervalMs: v.PRUNE_INTERVAL_MS,
    pruneBatchSize: v.PRUNE_BATCH_SIZE,
    opsToken: v.OPS_TOKEN,
    dlqMaxRedrives: v.DLQ_MAX_REDRIVES,
    migrateOnStart: v.MIGRATE_ON_START ?? false,
  });
}

/**
 * Where `service` keeps its data: its own URL, else `DATABASE_URL`, else PGlite under `DATA_DIR/<service>`.
 * @example databaseTarget(config, 'orders') // { dialect: 'pglite', dataDir: '.data/orders' }
 */
export function databaseTarget(config: Config, service: string): DatabaseTarget {
  const url = config.serviceDatabaseUrls[service] ?? config.databaseUrl;
  if (url === undefined) {
    return {
      dialect: 'pglite',
      dataDir: config.dataDir === IN_MEMORY_DATA_DIR ? undefined : join(config.dataDir, service),
    };
  }
  return /^(mssql|sqlserver):\/\//i.test(url) ? { dialect: 'mssql', url } : { dialect: 'postgres', url };
}

/**
 * Runs `fn` (synchronously); on a `ConfigError` prints its message to stderr and exits with status 1. Other errors pass through.
 * @example
 * const config = exitOnConfigError(() => loadConfig());
 */
export function exitOnConfigError<T>(
  fn: () => T,
  io: { stderr: { write(text: string): unknown }; exit(code: number): never } = process,
): T {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return io.exit(1);
  }
}
