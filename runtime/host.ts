/**
 * The process host: runs a set of functions with everything around them — the HTTP server for HTTP
 * functions, one consumer group per event function, an outbox relay per store, the pruning job
 * (`maintenance/pruner.ts`), readiness, and graceful shutdown. The container entry point (`serve <id>`) and
 * the all-in-one launcher both call `startHost`; they differ only in which functions they pass and how they
 * built the stores.
 * @module
 */
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { AnyEventFunction, AnyFunction, AnyHttpFunction } from './define.ts';
import { createHttpApp, type Readiness } from './http/app.ts';
import type { HttpVariables } from './http/request-context.ts';
import { listen } from './http/server.ts';
import type { RuntimeEnv } from './invoke.ts';
import type { KafkaProducer } from './kafka/client.ts';
import { type EventConsumer, type EventConsumerOptions, startEventConsumer } from './kafka/consumer.ts';
import { kafkaPublisher } from './kafka/publisher.ts';
import { ensureTopics, type TopicSpec } from './kafka/topics.ts';
import { type PrunerOptions, startPruner } from './maintenance/pruner.ts';
import { type OutboxRelay, startOutboxRelay } from './outbox/relay.ts';
import { describePingFailure } from './unavailable.ts';

export interface HostOptions {
  functions: readonly AnyFunction[];
  /** Stores, ports, clock and logger; `onCommitted` is set by the host (it nudges the relays). */
  env: Omit<RuntimeEnv, 'onCommitted'>;
  kafka: { brokers: readonly string[]; clientId: string };
  /** Topics to create (idempotently) before anything starts; usually every topic of the manifest. */
  topics?: readonly TopicSpec[];
  /** Serve HTTP functions (and `/healthz`, `/readyz`) here. Absent: no HTTP server unless there are HTTP functions, then port 0. */
  http?: {
    port: number;
    host?: string;
    bodyLimit?: number;
    configure?: (app: Hono<{ Variables: HttpVariables }>) => void;
  };
  outbox?: { pollMs?: number; batchSize?: number; maxFailures?: number };
  /** The pruning job over every store this process uses (on by default, default windows); `false` turns it off. */
  maintenance?: false | Pick<PrunerOptions, 'windows' | 'limit' | 'intervalMs'>;
  /** Consumer tuning; `batchSize` defaults to {@link DEFAULT_CONSUMER_BATCH_SIZE} here (1 in `startEventConsumer`). */
  consumer?: EventConsumerOptions;
  /** Per-function retry attempts override (e.g. from `CONSUMER_RETRY_ATTEMPTS`). */
  retryAttempts?: number;
  /** Longest a graceful stop waits for in-flight work before closing anyway. Default 10 s. */
  shutdownTimeoutMs?: number;
}

/**
 * Messages per database transaction of a hosted event consumer: a busy partition's backlog is handled in
 * transactions of up to this many events (each still deduplicated by the inbox and dead-lettered alone when it
 * fails); an idle one still handles each message as it comes.
 */
export const DEFAULT_CONSUMER_BATCH_SIZE = 100;

/**
 * Longest a process serving HTTP functions waits, once it listens, for its first request to be answered before
 * it starts its Kafka side anyway (events of requests answered meanwhile wait in the outbox, as always).
 */
export const HTTP_FIRST_MS = 200;

export interface Host {
  /** `http://host:port` of the HTTP server, when there is one. */
  readonly url: string | undefined;
  readonly port: number | undefined;
  /** Resolves when every consumer has joined its group. */
  readonly ready: Promise<void>;
  readiness(): Promise<Readiness>;
  /** Graceful stop: no new requests, in-flight handlers finish, offsets committed, outbox drained, clients closed. */
  stop(): Promise<void>;
}

/**
 * Starts `functions` in this process.
 * @example
 * const host = await startHost({ functions: manifest, env, kafka: { brokers, clientId: 'orderflow' }, http: { port: 5000 } });
 * process.once('SIGTERM', () => void host.stop());
 */
export async function startHost(options: HostOptions): Promise<Host> {
  const log = options.env.logger.child({ component: 'host' });
  const httpFunctions = options.functions.filter((fn): fn is AnyHttpFunction => fn.kind === 'http');
  const eventFunctions = options.functions
    .filter((fn): fn is AnyEventFunction => fn.kind === 'event')
    .map((fn) => withRetryAttempts(fn, options.retryAttempts));
  const services = [...new Set(options.functions.map((fn) => fn.store.service))];

  for (const service of services) {
    if (options.env.stores[service] === undefined) throw new Error(`no store for service "${service}"`);
  }
  const relays = new Map<string, OutboxRelay>();
  const env: RuntimeEnv = { ...options.env, onCommitted: (service) => relays.get(service)?.nudge() };
  const pruner =
    options.maintenance === false
      ? undefined
      : startPruner({
          stores: services.map((service) => env.stores[service]!),
          clock: env.clock,
          logger: log,
          ...options.maintenance,
        });

  // Kafka is not needed to accept requests (their events wait in the outbox): the HTTP server listens first,
  // and the Kafka side (producer, topics, relays, consumers) starts once it does, retrying while the broker is
  // unreachable — a broker outage at start-up is not a reason to exit. `/readyz` says `kafka: connecting` meanwhile.
  const consumers: EventConsumer[] = [];
  let stopped = false;
  let kafkaState = 'connecting';
  let producer: KafkaProducer | undefined;

  const readiness = async (): Promise<Readiness> => {
    const checks: Record<string, string> = { kafka: kafkaState };
    for (const consumer of consumers) {
      const paused = consumer.paused();
      checks[`consumer:${consumer.groupId}`] = !consumer.isReady()
        ? 'not joined'
        : paused.length > 0
          ? `paused: ${[...new Set(paused.map((p) => p.dependency))].join(', ')} unavailable (${paused.length} partition(s))`
          : 'ok';
    }
    await Promise.all(
      services.map(async (service) => {
        const store = env.stores[service]!;
        checks[`db:${service}`] = await store.ping().then(
          () => 'ok',
          (error: unknown) => describePingFailure(store, error),
        );
      }),
    );
    return { ok: Object.values(checks).every((state) => state === 'ok'), checks };
  };

  // HTTP first: a process serving HTTP functions starts its Kafka side (loading kafkajs takes tens of ms of
  // the one JavaScript thread) once it has answered its first request, or HTTP_FIRST_MS after it listens.
  let firstAnswered = () => {};
  const httpFirst =
    httpFunctions.length === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          firstAnswered = resolve;
          setTimeout(resolve, HTTP_FIRST_MS).unref();
        });
  let server: Server | undefined;
  let port: number | undefined;
  let url: string | undefined;
  const inFlight = new Set<Promise<unknown>>();
  if (options.http !== undefined || httpFunctions.length > 0) {
    const app = createHttpApp({
      functions: httpFunctions,
      env,
      readiness,
      ...(options.http?.bodyLimit === undefined ? {} : { bodyLimit: options.http.bodyLimit }),
    });
    options.http?.configure?.(app);
    const hostname = options.http?.host ?? '0.0.0.0';
    const listening = await listen({
      fetch: (request, env) => {
        const pending = Promise.resolve(app.fetch(request, env));
        inFlight.add(pending);
        return pending.finally(() => {
          inFlight.delete(pending);
          firstAnswered();
        });
      },
      port: options.http?.port ?? 0,
      hostname,
    });
    server = listening.server;
    port = listening.port;
    url = `http://${hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname}:${port}`;
    log.info(
      { url, routes: httpFunctions.flatMap((fn) => fn.paths.map((p) => `${fn.method} ${p}`)) },
      'http listening',
    );
  }

  const kafkaStarted = (async () => {
    await httpFirst;
    // kafkajs (a third of the code `serve` loads) is loaded here, once the HTTP server listens.
    const { createKafkaClient, sharedProducer } = await import('./kafka/client.ts');
    const kafka = createKafkaClient({ ...options.kafka, logger: options.env.logger });
    const shared = sharedProducer(kafka);
    producer = shared;
    const publish = kafkaPublisher(shared);
    await untilDone(
      'connect to Kafka',
      log,
      () => stopped,
      (error) => {
        kafkaState = `connecting: ${error instanceof Error ? error.message : String(error)}`;
      },
      async () => {
        await shared.connect();
        if (options.topics?.length) {
          const created = await ensureTopics(kafka, options.topics);
          if (created.length > 0) log.info({ topics: created }, 'created topics');
        }
      },
    );
    for (const service of services) {
      if (stopped) return;
      const store = env.stores[service]!;
      const metrics = env.metrics;
      metrics?.watchOutbox(service, store.outbox, env.clock);
      if (store.poolState !== undefined) metrics?.watchPool(service, () => store.poolState?.());
      relays.set(
        service,
        startOutboxRelay({
          outbox: store.outbox,
          publish,
          logger: log.child({ service }),
          ...options.outbox,
          ...(env.tracer === undefined ? {} : { tracer: env.tracer }),
          ...(metrics === undefined
            ? {}
            : {
                observer: {
                  published: (rows) =>
                    metrics.published(
                      service,
                      rows.map((row) => row.createdAt),
                      env.clock(),
                    ),
                  failed: (kind, count) => metrics.relayFailed(service, kind, count),
                },
              }),
        }),
      );
    }
    // Created above (or already there): consumers need not check them, nor ask the cluster their partitions.
    const knownTopics = new Map((options.topics ?? []).map((spec) => [spec.topic, spec.partitions]));
    for (const fn of eventFunctions) {
      const consumer = await untilDone(
        `start consumer ${fn.groupId}`,
        log,
        () => stopped,
        undefined,
        () =>
          startEventConsumer(fn, env, kafka, shared, {
            batchSize: DEFAULT_CONSUMER_BATCH_SIZE,
            knownTopics,
            ...options.consumer,
          }),
      );
      if (consumer === undefined) return;
      consumers.push(consumer);
      if (stopped) await consumer.stop();
    }
    kafkaState = 'ok';
  })();
  const ready = kafkaStarted.then(() => Promise.all(consumers.map((c) => c.ready))).then(() => undefined);
  // Nothing may await `ready` (a process with no consumers, a test): its rejection must not go unhandled.
  ready.catch(() => {});

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const deadline = options.shutdownTimeoutMs ?? 10_000;
      log.info('stopping');
      await withTimeout(
        (async () => {
          if (server !== undefined) {
            const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
            await Promise.allSettled(inFlight);
            await closed;
          }
          stopped = true;
          await kafkaStarted.catch(() => undefined);
          await Promise.allSettled(consumers.map((c) => c.stop()));
          await pruner?.stop();
          for (const relay of relays.values()) await relay.drain().catch(() => undefined);
          await Promise.allSettled([...relays.values()].map((r) => r.stop()));
        })(),
        deadline,
        () => log.warn({ timeoutMs: deadline }, 'graceful stop timed out; closing anyway'),
      );
      (server as unknown as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
      await producer?.disconnect().catch(() => undefined);
      log.info('stopped');
    })();
    return stopping;
  };

  return { url, port, ready, readiness, stop };
}

/**
 * Runs `work` until it succeeds, retrying with a capped back-off (250 ms doubling to 5 s) and one log line per
 * failure; resolves `undefined` when `isStopped` turns true first.
 */
async function untilDone<T>(
  what: string,
  log: Logger,
  isStopped: () => boolean,
  onFailure: ((error: unknown) => void) | undefined,
  work: () => Promise<T>,
): Promise<T | undefined> {
  for (let attempt = 1; !isStopped(); attempt++) {
    try {
      return await work();
    } catch (error) {
      onFailure?.(error);
      const delayMs = Math.min(5_000, 250 * 2 ** Math.min(attempt - 1, 5));
      log.warn({ err: error, attempt, delayMs }, `could not ${what}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  return undefined;
}

function withRetryAttempts(fn: AnyEventFunction, attempts: number | undefined): AnyEventFunction {
  return attempts === undefined ? fn : { ...fn, retryPolicy: { ...fn.retryPolicy, attempts } };
}

async function withTimeout(work: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
    timer.unref();
  });
  await Promise.race([work, timeout]);
  clearTimeout(timer);
}
