import { describe, expect, it, vi } from 'vitest';
import { ConfigError, databaseTarget, exitOnConfigError, loadConfig } from './config.ts';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has a default for everything, so an empty environment runs locally', () => {
    expect(loadConfig({})).toEqual({
      kafkaBrokers: undefined,
      kafkaClientId: 'orderflow',
      topicPartitions: 3,
      kafkaSessionTimeoutMs: undefined,
      kafkaHeartbeatIntervalMs: undefined,
      consumerRetryAttempts: undefined,
      consumerPartitionsConcurrently: undefined,
      databaseUrl: undefined,
      serviceDatabaseUrls: {},
      port: 5000,
      host: '0.0.0.0',
      logLevel: 'info',
      dataDir: '.data',
      paymentLimit: '300',
      paymentProviderUrl: undefined,
      paymentProviderTimeoutMs: 5000,
      notifyWebhookUrl: undefined,
      httpBodyLimit: 65536,
      outboxPollMs: 1000,
      shutdownTimeoutMs: 10000,
      idempotencyKeyTtlMs: 86_400_000,
      outboxMaxFailures: 10,
      retention: { outboxMs: 86_400_000, inboxMs: 604_800_000, attemptsMs: 604_800_000 },
      pruneIntervalMs: 60_000,
      pruneBatchSize: 1000,
      opsToken: undefined,
      dlqMaxRedrives: 3,
      migrateOnStart: false,
    });
  });

  it('reads OPS_TOKEN and DLQ_MAX_REDRIVES; a short token is refused without echoing it', () => {
    expect(loadConfig({ OPS_TOKEN: 'a-long-enough-token', DLQ_MAX_REDRIVES: '0' })).toMatchObject({
      opsToken: 'a-long-enough-token',
      dlqMaxRedrives: 0,
    });
    expect(() => loadConfig({ OPS_TOKEN: 'short-secret' })).toThrow(
      /OPS_TOKEN: must be at least 16 characters$/,
    );
    expect(() => loadConfig({ OPS_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('parses every variable', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092,',
      KAFKA_CLIENT_ID: 'orders-svc',
      TOPIC_PARTITIONS: '12',
      CONSUMER_RETRY_ATTEMPTS: '7',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      ORDERS_DATABASE_URL: 'sqlserver://sql:1433',
      PAYMENTS_DATABASE_URL: 'postgresql://db/payments',
      PORT: '8080',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'DEBUG',
      DATA_DIR: '/var/lib/orderflow',
      PAYMENT_LIMIT: '299.99',
      PAYMENT_PROVIDER_URL: 'https://payments.example.com/v1',
      PAYMENT_PROVIDER_TIMEOUT_MS: '2500',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
      NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/x',
      HTTP_BODY_LIMIT: '1024',
      OUTBOX_POLL_MS: '250',
      SHUTDOWN_TIMEOUT_MS: '0',
      IDEMPOTENCY_KEY_TTL_MS: '3600000',
      OUTBOX_MAX_FAILURES: '3',
      OUTBOX_RETENTION: '36h',
      INBOX_RETENTION: '14d',
      ATTEMPTS_RETENTION: '90m',
      PRUNE_INTERVAL_MS: '0',
      PRUNE_BATCH_SIZE: '500',
    });
    expect(config).toMatchObject({
      kafkaBrokers: ['kafka-1:9092', 'kafka-2:9092'],
      kafkaClientId: 'orders-svc',
      topicPartitions: 12,
      consumerRetryAttempts: 7,
      serviceDatabaseUrls: { orders: 'sqlserver://sql:1433', payments: 'postgresql://db/payments' },
      port: 8080,
      logLevel: 'debug',
      paymentLimit: '299.99',
      paymentProviderUrl: 'https://payments.example.com/v1',
      paymentProviderTimeoutMs: 2500,
      kafkaSessionTimeoutMs: 10000,
      kafkaHeartbeatIntervalMs: 1000,
      httpBodyLimit: 1024,
      outboxPollMs: 250,
      shutdownTimeoutMs: 0,
      idempotencyKeyTtlMs: 3_600_000,
      outboxMaxFailures: 3,
      retention: { outboxMs: 36 * 3_600_000, inboxMs: 14 * 86_400_000, attemptsMs: 90 * 60_000 },
      pruneIntervalMs: 0,
      pruneBatchSize: 500,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('derives the heartbeat from a session timeout alone: a third of it, at most 3 s', () => {
    expect(loadConfig({ KAFKA_SESSION_TIMEOUT_MS: '6000' }).kafkaHeartbeatIntervalMs).toBe(2000);
    expect(loadConfig({ KAFKA_SESSION_TIMEOUT_MS: '45000' }).kafkaHeartbeatIntervalMs).toBe(3000);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ KAFKA_BROKERS: '', PORT: '  ' })).toMatchObject({
      kafkaBrokers: undefined,
      port: 5000,
    });
  });

  it.each([
    ['PORT', 'abc', 'PORT: must be an integer between 0 and 65535 (got "abc")'],
    ['PORT', '70000', 'PORT: must be an integer between 0 and 65535 (got "70000")'],
    ['KAFKA_BROKERS', 'kafka', 'KAFKA_BROKERS: must be a comma-separated list of host:port (got "kafka")'],
    [
      'DATABASE_URL',
      'mysql://db',
      'DATABASE_URL: must start with postgres://, postgresql://, mssql://, sqlserver:// (got "mysql://db")',
    ],
    [
      'LOG_LEVEL',
      'verbose',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ],
    [
      'PAYMENT_LIMIT',
      '-5',
      'PAYMENT_LIMIT: must be a non-negative decimal such as "300" or "299.99" (got "-5")',
    ],
    [
      'NOTIFY_WEBHOOK_URL',
      'ftp://x',
      'NOTIFY_WEBHOOK_URL: must be an http:// or https:// URL (got "ftp://x")',
    ],
    ['TOPIC_PARTITIONS', '0', 'TOPIC_PARTITIONS: must be an integer between 1 and 1000 (got "0")'],
    [
      'PAYMENT_PROVIDER_URL',
      'payments.example.com',
      'PAYMENT_PROVIDER_URL: must be an http:// or https:// URL (got "payments.example.com")',
    ],
    [
      'KAFKA_SESSION_TIMEOUT_MS',
      '500',
      'KAFKA_SESSION_TIMEOUT_MS: must be an integer between 1000 and 3600000 (got "500")',
    ],
    [
      'KAFKA_HEARTBEAT_INTERVAL_MS',
      '30000',
      'KAFKA_HEARTBEAT_INTERVAL_MS: must be less than KAFKA_SESSION_TIMEOUT_MS (default 30000) (got "30000")',
    ],
    ['HTTP_BODY_LIMIT', '1.5', 'HTTP_BODY_LIMIT: must be an integer between 1 and 104857600 (got "1.5")'],
    [
      'INBOX_RETENTION',
      '7',
      'INBOX_RETENTION: must be a number with a unit: ms, s, m, h or d (e.g. "7d") (got "7")',
    ],
    ['OUTBOX_RETENTION', '30s', 'OUTBOX_RETENTION: must be between 1 minute(s) and 3650d (got "30s")'],
    ['OUTBOX_MAX_FAILURES', '0', 'OUTBOX_MAX_FAILURES: must be an integer between 1 and 1000 (got "0")'],
  ])('rejects %s=%s with a message naming the variable', (name, value, message) => {
    const error = errorOf({ [name]: value });
    expect(error.issues).toEqual([{ variable: name, message: message.slice(name.length + 2) }]);
    expect(error.message).toContain(message);
  });

  it('names every bad variable at once', () => {
    const error = errorOf({ PORT: 'x', OUTBOX_POLL_MS: '5', CONSUMER_RETRY_ATTEMPTS: '0' });
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'CONSUMER_RETRY_ATTEMPTS',
      'OUTBOX_POLL_MS',
      'PORT',
    ]);
    expect(error.message.split('\n')[0]).toBe('Invalid configuration:');
  });

  it('never echoes a password', () => {
    const error = errorOf({ ORDERS_DATABASE_URL: 'mysql://admin:s3cret@db/orders' });
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toContain('(got "mysql://admin:***@db/orders")');
  });
});

describe('databaseTarget', () => {
  it.each([
    [{}, 'orders', { dialect: 'pglite', dataDir: '.data/orders' }],
    [{ DATA_DIR: 'memory://' }, 'orders', { dialect: 'pglite', dataDir: undefined }],
    [{ DATABASE_URL: 'postgres://db/app' }, 'orders', { dialect: 'postgres', url: 'postgres://db/app' }],
    [
      { DATABASE_URL: 'postgres://db/app', PAYMENTS_DATABASE_URL: 'mssql://sql/p' },
      'payments',
      { dialect: 'mssql', url: 'mssql://sql/p' },
    ],
    [
      { DATABASE_URL: 'postgres://db/app', PAYMENTS_DATABASE_URL: 'mssql://sql/p' },
      'orders',
      { dialect: 'postgres', url: 'postgres://db/app' },
    ],
  ])('picks the database of a service from %o', (env, service, target) => {
    expect(databaseTarget(loadConfig(env), service)).toEqual(target);
  });
});

describe('exitOnConfigError', () => {
  const io = () => ({
    stderr: { write: vi.fn() },
    exit: vi.fn(() => {
      throw new Error('exited');
    }) as unknown as (code: number) => never,
  });

  it('prints the message to stderr and exits 1 on a ConfigError', () => {
    const fake = io();
    expect(() => exitOnConfigError(() => loadConfig({ PORT: 'abc' }), fake)).toThrow('exited');
    expect(fake.stderr.write).toHaveBeenCalledWith(expect.stringContaining('PORT: must be an integer'));
    expect(fake.exit).toHaveBeenCalledWith(1);
  });

  it('returns the value, and lets other errors through', () => {
    const fake = io();
    expect(exitOnConfigError(() => 42, fake)).toBe(42);
    expect(() =>
      exitOnConfigError(() => {
        throw new TypeError('bug');
      }, fake),
    ).toThrow('bug');
    expect(fake.exit).not.toHaveBeenCalled();
  });
});
