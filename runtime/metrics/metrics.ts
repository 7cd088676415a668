/**
 * Prometheus metrics of a process (prom-client): one registry, built once at start-up and injected through
 * `RuntimeEnv.metrics`; every binding calls one method per event and nothing when it is absent. Names follow
 * the OpenTelemetry semantic conventions (HTTP, messaging, database) where one exists, in the OpenTelemetry →
 * Prometheus form (dots become underscores, the unit a suffix, counters end in `_total`); the others are
 * `orderflow_*`. The table of every family: docs/observability.md.
 * @module
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OutboxPort, PoolState } from '../store.ts';

/** Seconds; OpenTelemetry's advice for `http.server.request.duration` (also used for the other durations). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Event age and publish latency can be long (outages, back-offs): the same buckets up to an hour. */
const AGE_BUCKETS = [...DURATION_BUCKETS, 30, 60, 300, 900, 3600];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** How a consumed message ended, as counted by `messaging_client_consumed_messages_total{outcome}`. */
export type ConsumedOutcome = 'handled' | 'duplicate' | 'dead_lettered';

/** Labels of one consumer (event function) and topic. */
export interface ConsumerLabels {
  function: string;
  group: string;
  topic: string;
}

export interface MetricsOptions {
  /** Node.js process metrics (`process_*`, `nodejs_*`). Default true. */
  defaultMetrics?: boolean;
}

/** The metrics of one process. */
export interface Metrics {
  readonly registry: Registry;
  /** Prometheus text exposition of everything. */
  text(): Promise<string>;
  readonly contentType: string;
  /** An HTTP request began; call the returned function with its route template and status when it ends. */
  httpStarted(method: string): (end: { function: string; route: string; status: number }) => void;
  consumed(labels: ConsumerLabels, outcome: ConsumedOutcome, count?: number): void;
  retried(labels: ConsumerLabels): void;
  processed(labels: ConsumerLabels, seconds: number): void;
  fetchedBatch(labels: ConsumerLabels, size: number): void;
  eventAge(labels: ConsumerLabels, seconds: number): void;
  lag(labels: ConsumerLabels, partition: number, messages: number): void;
  rebalanced(labels: Omit<ConsumerLabels, 'topic'>): void;
  paused(labels: ConsumerLabels, dependency: string): void;
  /** Outbox rows of `service` acknowledged by Kafka, with the time each was committed. */
  published(service: string, createdAt: readonly Date[], now: Date): void;
  relayFailed(service: string, kind: 'outage' | 'rejected', count?: number): void;
  /** Reads the outbox gauges of `service` from its port at every scrape. */
  watchOutbox(service: string, outbox: OutboxPort, clock: () => Date): void;
  /** A store transaction of `service` ended after `seconds` (`outcome`: commit or rollback). */
  transaction(service: string, seconds: number, outcome: 'commit' | 'rollback'): void;
  /** Reads a store's connection pool at every scrape (server dialects). */
  watchPool(service: string, read: () => PoolState | undefined): void;
}

/**
 * Builds the registry with every family of the runtime.
 * @example
 * const metrics = createMetrics();
 * const host = await startHost({ functions, env: { ...env, metrics }, ... }); // GET /metrics
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  // HTTP: OpenTelemetry semantic conventions (http.server.request.duration, http.server.active_requests).
  const httpDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
    labelNames: ['function', 'http_request_method', 'http_route', 'http_response_status_code'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const httpActive = new Gauge({
    name: 'http_server_active_requests',
    help: 'HTTP server requests in flight (OpenTelemetry http.server.active_requests).',
    labelNames: ['http_request_method'] as const,
    registers,
  });
  const httpRejected = new Counter({
    name: 'orderflow_http_rejected_requests_total',
    help: 'HTTP requests refused before the handler: body too large (413) or failed validation (400).',
    labelNames: ['function', 'http_route', 'reason'] as const,
    registers,
  });

  // Messaging: OpenTelemetry messaging conventions (messaging.client.consumed.messages, messaging.process.duration).
  const consumerLabels = ['function', 'messaging_consumer_group_name', 'messaging_destination_name'] as const;
  const consumed = new Counter({
    name: 'messaging_client_consumed_messages_total',
    help: 'Messages an event function finished, by outcome: handled, duplicate (inbox), dead_lettered.',
    labelNames: [...consumerLabels, 'outcome'] as const,
    registers,
  });
  const retried = new Counter({
    name: 'orderflow_consumer_retries_total',
    help: 'Failed handler attempts followed by a retry (back-off).',
    labelNames: consumerLabels,
    registers,
  });
  const processDuration = new Histogram({
    name: 'messaging_process_duration_seconds',
    help: 'Duration of one processing step: one message, or one transaction of a batch (OpenTelemetry messaging.process.duration).',
    labelNames: consumerLabels,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const batchSize = new Histogram({
    name: 'orderflow_consumer_batch_messages',
    help: 'Messages per batch fetched from a partition.',
    labelNames: consumerLabels,
    buckets: BATCH_BUCKETS,
    registers,
  });
  const eventAge = new Histogram({
    name: 'orderflow_consumer_event_age_seconds',
    help: "Age of an event when its function handles it: now minus the event's time.",
    labelNames: consumerLabels,
    buckets: AGE_BUCKETS,
    registers,
  });
  const lag = new Gauge({
    name: 'orderflow_consumer_lag_messages',
    help: 'Messages of a partition not yet done by the group: log end offset minus committed offset, after each batch.',
    labelNames: [...consumerLabels, 'messaging_destination_partition_id'] as const,
    registers,
  });
  const rebalances = new Counter({
    name: 'orderflow_consumer_rebalances_total',
    help: 'Times the member (re)joined its consumer group.',
    labelNames: ['function', 'messaging_consumer_group_name'] as const,
    registers,
  });
  const pauses = new Counter({
    name: 'orderflow_consumer_pauses_total',
    help: 'Partition pauses because a dependency was unavailable (no attempt spent).',
    labelNames: [...consumerLabels, 'dependency'] as const,
    registers,
  });

  // Outbox.
  const publishLatency = new Histogram({
    name: 'orderflow_outbox_publish_latency_seconds',
    help: 'From the commit that wrote an outbox row to its acknowledgement by Kafka.',
    labelNames: ['service'] as const,
    buckets: AGE_BUCKETS,
    registers,
  });
  const published = new Counter({
    name: 'orderflow_outbox_published_total',
    help: 'Outbox rows published and acknowledged by Kafka.',
    labelNames: ['service'] as const,
    registers,
  });
  const relayErrors = new Counter({
    name: 'orderflow_outbox_relay_errors_total',
    help: 'Relay failures: outage (a cycle failed, rows released) or rejected (a row charged by the broker).',
    labelNames: ['service', 'kind'] as const,
    registers,
  });
  const outboxes = new Map<string, { outbox: OutboxPort; clock: () => Date }>();
  const readOutboxes = async () =>
    Promise.all(
      [...outboxes].map(async ([service, { outbox, clock }]) => {
        const [pending, parked, oldest] = await Promise.all([
          outbox.pendingCount(),
          outbox.parkedCount(),
          outbox.oldestPendingAt?.() ?? Promise.resolve(undefined),
        ]);
        return { service, pending, parked, oldest, now: clock() };
      }),
    ).catch(() => []);
  new Gauge({
    name: 'orderflow_outbox_unpublished_rows',
    help: 'Outbox rows not yet published (parked ones included).',
    labelNames: ['service'] as const,
    registers,
    async collect() {
      this.reset();
      for (const row of await readOutboxes()) this.set({ service: row.service }, row.pending);
    },
  });
  new Gauge({
    name: 'orderflow_outbox_parked_rows',
    help: 'Outbox rows parked after too many rejected publishes (never claimed until republished).',
    labelNames: ['service'] as const,
    registers,
    async collect() {
      this.reset();
      for (const row of await readOutboxes()) this.set({ service: row.service }, row.parked);
    },
  });
  new Gauge({
    name: 'orderflow_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox row; 0 when there is none.',
    labelNames: ['service'] as const,
    registers,
    async collect() {
      this.reset();
      for (const row of await readOutboxes()) {
        if (row.oldest === undefined) continue;
        const age = row.oldest === null ? 0 : (row.now.getTime() - row.oldest.getTime()) / 1000;
        this.set({ service: row.service }, Math.max(0, age));
      }
    },
  });

  // Database: OpenTelemetry database client conventions for the pool; the transaction is ours.
  const txDuration = new Histogram({
    name: 'orderflow_db_transaction_duration_seconds',
    help: 'Duration of a store transaction (BEGIN to COMMIT or ROLLBACK), handler included.',
    labelNames: ['service', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const pools = new Map<string, () => PoolState | undefined>();
  const poolGauge = (name: string, help: string, read: (state: PoolState) => Record<string, number>) =>
    new Gauge({
      name,
      help,
      labelNames: ['db_client_connection_pool_name', 'db_client_connection_state'] as const,
      registers,
      collect() {
        this.reset();
        for (const [service, poolOf] of pools) {
          const state = poolOf();
          if (state === undefined) continue;
          for (const [key, value] of Object.entries(read(state))) {
            this.set(
              key === ''
                ? { db_client_connection_pool_name: service }
                : { db_client_connection_pool_name: service, db_client_connection_state: key },
              value,
            );
          }
        }
      },
    });
  poolGauge(
    'db_client_connection_count',
    'Connections of the pool by state (OpenTelemetry db.client.connection.count).',
    (s) => ({ used: s.used, idle: s.idle }),
  );
  poolGauge(
    'db_client_connection_max',
    'Largest number of connections the pool allows (OpenTelemetry db.client.connection.max).',
    (s) => ({ '': s.max }),
  );
  poolGauge(
    'db_client_connection_pending_requests',
    'Requests waiting for a connection (OpenTelemetry db.client.connection.pending_requests).',
    (s) => ({ '': s.pending }),
  );

  const consumer = (l: ConsumerLabels) => ({
    function: l.function,
    messaging_consumer_group_name: l.group,
    messaging_destination_name: l.topic,
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    httpStarted(method) {
      const started = performance.now();
      httpActive.inc({ http_request_method: method });
      return (end) => {
        httpActive.dec({ http_request_method: method });
        const labels = { function: end.function, http_route: end.route };
        httpDuration.observe(
          { ...labels, http_request_method: method, http_response_status_code: end.status },
          (performance.now() - started) / 1000,
        );
        if (end.status === 413) httpRejected.inc({ ...labels, reason: 'payload_too_large' });
        else if (end.status === 400) httpRejected.inc({ ...labels, reason: 'validation' });
      };
    },
    consumed: (l, outcome, count = 1) => consumed.inc({ ...consumer(l), outcome }, count),
    retried: (l) => retried.inc(consumer(l)),
    processed: (l, seconds) => processDuration.observe(consumer(l), seconds),
    fetchedBatch: (l, size) => batchSize.observe(consumer(l), size),
    eventAge: (l, seconds) => eventAge.observe(consumer(l), Math.max(0, seconds)),
    lag: (l, partition, messages) =>
      lag.set(
        { ...consumer(l), messaging_destination_partition_id: String(partition) },
        Math.max(0, messages),
      ),
    rebalanced: (l) => rebalances.inc({ function: l.function, messaging_consumer_group_name: l.group }),
    paused: (l, dependency) => pauses.inc({ ...consumer(l), dependency }),
    published(service, createdAt, now) {
      published.inc({ service }, createdAt.length);
      for (const at of createdAt)
        publishLatency.observe({ service }, Math.max(0, (now.getTime() - at.getTime()) / 1000));
    },
    relayFailed: (service, kind, count = 1) => relayErrors.inc({ service, kind }, count),
    watchOutbox(service, outbox, clock) {
      outboxes.set(service, { outbox, clock });
    },
    transaction: (service, seconds, outcome) => txDuration.observe({ service, outcome }, seconds),
    watchPool(service, read) {
      pools.set(service, read);
    },
  };
}
