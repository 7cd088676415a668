/**
 * The composition root: turns a `Config` and a list of functions into a running host — stores opened and
 * migrated (or their schema version checked), ports built, topics created, relays, consumers and the HTTP
 * server started. Nothing here waits for Kafka before the HTTP server listens. Used by the
 * container entry point (`app/main.ts`, `app/commands.ts`) and the all-in-one launcher (`local/start.ts`).
 * @module
 */
import type { Logger } from 'pino';
import { type OpenStoresOptions, openStores } from '../db/open-stores.ts';
import { manifestTopics, servicesOf } from '../functions/manifest.ts';
import { createPorts } from '../functions/ports.ts';
import { type Config, databaseTarget } from '../runtime/config.ts';
import type { AnyFunction } from '../runtime/define.ts';
import { type Host, type HostOptions, startHost } from '../runtime/host.ts';
import type { EventConsumerOptions } from '../runtime/kafka/consumer.ts';
import type { TopicSpec } from '../runtime/kafka/topics.ts';
import { createMetrics, type Metrics } from '../runtime/metrics/metrics.ts';
import type { TransactionalStore } from '../runtime/store.ts';
import { mountConsole } from './console/index.ts';
import type { OpsTooling } from './ops-tooling.ts';
import { startTracing, type Tracing } from './tracing.ts';

export interface SystemOptions {
  config: Config;
  functions: readonly AnyFunction[];
  /** Kafka bootstrap brokers (from `KAFKA_BROKERS`, or the embedded broker's address). */
  brokers: readonly string[];
  logger: Logger;
  http?: HostOptions['http'];
  consumer?: EventConsumerOptions;
  clock?: () => Date;
  /** Prometheus metrics served at `GET /metrics`: a new registry by default; `false` measures nothing. */
  metrics?: Metrics | false;
  /** Tracing already started (tests); by default started from the `OTEL_*` environment, if it asks (app/tracing.ts). */
  tracing?: Tracing;
  /** Mounts `/ops` with this bearer token (`npm start` generates one); default `config.opsToken`. */
  opsToken?: string;
  /**
   * Apply pending migrations (default true: `npm start`, tests). `serve` passes `config.migrateOnStart`, false
   * by default: the `migrate` job has applied them, and a function only checks the schema version.
   */
  migrate?: boolean;
}

export interface RunningSystem {
  readonly host: Host;
  /** The open stores by service (tests and operational tooling read them). */
  readonly stores: Record<string, TransactionalStore<unknown>>;
  /** Graceful stop of the host, then the database connections. */
  stop(): Promise<void>;
}

/** Every topic of the manifest with its partition count: events get `partitions`, dead-letter topics 1. */
export function topicSpecs(partitions: number): TopicSpec[] {
  const { events, deadLetters } = manifestTopics();
  return [
    ...events.map((topic) => ({ topic, partitions })),
    ...deadLetters.map((topic) => ({ topic, partitions: 1 })),
  ];
}

/**
 * Starts `functions` against the configured databases and Kafka.
 * @example
 * const system = await startSystem({ config, functions: manifest, brokers: ['127.0.0.1:9092'], logger });
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const { config, logger } = options;
  const tracing =
    options.tracing ??
    (await startTracing({
      serviceName: options.functions.length === 1 ? options.functions[0]!.id : 'orderflow',
    }));
  if (tracing !== undefined && options.tracing === undefined) logger.info('tracing on (OpenTelemetry SDK)');
  const dbLog = logger.child({ component: 'db' });
  const { stores, close } = await openStores(
    servicesOf(options.functions),
    (service) => databaseTarget(config, service),
    { logger: dbLog, onPgliteMaintenance: pgliteMaintenanceLog(dbLog), migrate: options.migrate ?? true },
  );
  let ops: OpsTooling | undefined;
  try {
    // `/ops` only with a token: the routes are not mounted at all otherwise (runtime/ops/http.ts), and their
    // code (with a Kafka client of its own) is loaded only then.
    const opsToken = options.opsToken ?? config.opsToken;
    let mountOps: typeof import('../runtime/ops/http.ts').mountOps | undefined;
    if (opsToken !== undefined) {
      const [{ createOpsTooling }, opsHttp] = await Promise.all([
        import('./ops-tooling.ts'),
        import('../runtime/ops/http.ts'),
      ]);
      mountOps = opsHttp.mountOps;
      ops = await createOpsTooling({
        brokers: options.brokers,
        clientId: config.kafkaClientId,
        logger,
        maxRedrives: config.dlqMaxRedrives,
        stores,
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      });
    }
    const http = options.http ?? { port: config.port, host: config.host, bodyLimit: config.httpBodyLimit };
    const tooling = ops;
    const host = await startHost({
      functions: options.functions,
      env: {
        stores,
        ports: createPorts(config, logger),
        clock: options.clock ?? (() => new Date()),
        logger,
        ...(options.metrics === false ? {} : { metrics: options.metrics ?? createMetrics() }),
        ...(tracing === undefined ? {} : { tracer: tracing.tracer }),
      },
      kafka: { brokers: options.brokers, clientId: config.kafkaClientId },
      topics: topicSpecs(config.topicPartitions),
      http: {
        ...http,
        configure: (app) => {
          mountConsole(app);
          if (tooling !== undefined) mountOps?.(app, { token: opsToken, logger, ...tooling });
          http.configure?.(app);
        },
      },
      outbox: { pollMs: config.outboxPollMs, maxFailures: config.outboxMaxFailures },
      maintenance:
        config.pruneIntervalMs === 0
          ? false
          : { intervalMs: config.pruneIntervalMs, limit: config.pruneBatchSize, windows: config.retention },
      consumer: { ...groupTimings(config), ...options.consumer },
      ...(config.consumerRetryAttempts === undefined ? {} : { retryAttempts: config.consumerRetryAttempts }),
      shutdownTimeoutMs: config.shutdownTimeoutMs,
    });
    return {
      host,
      stores,
      async stop() {
        await host.stop();
        await ops?.close();
        await close();
        await tracing?.shutdown().catch(() => undefined);
      },
    };
  } catch (error) {
    await ops?.close();
    await close();
    await tracing?.shutdown().catch(() => undefined);
    throw error;
  }
}

/**
 * `KAFKA_SESSION_TIMEOUT_MS` / `KAFKA_HEARTBEAT_INTERVAL_MS` / `CONSUMER_PARTITIONS_CONCURRENTLY`, when set
 * (otherwise kafkajs' and the consumer's defaults apply).
 */
function groupTimings(config: Config): EventConsumerOptions {
  return {
    ...(config.kafkaSessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: config.kafkaSessionTimeoutMs }),
    ...(config.kafkaHeartbeatIntervalMs === undefined
      ? {}
      : { heartbeatIntervalMs: config.kafkaHeartbeatIntervalMs }),
    ...(config.consumerPartitionsConcurrently === undefined
      ? {}
      : { partitionsConsumedConcurrently: config.consumerPartitionsConcurrently }),
  };
}

/**
 * PGlite's autovacuum substitute blocks every statement while it runs (one connection): each run is logged at
 * debug, a run of 100 ms or more at info (a latency spike's likely cause), a failure at warn.
 */
function pgliteMaintenanceLog(log: Logger): NonNullable<OpenStoresOptions['onPgliteMaintenance']> {
  return (event) => {
    if ('error' in event) log.warn({ err: event.error }, 'PGlite maintenance failed');
    else if (event.ms >= 100) log.info(event, 'PGlite maintenance');
    else log.debug(event, 'PGlite maintenance');
  };
}
