/**
 * Function definitions: config object first, handler inside, stable id. Handlers get one context
 * argument and know nothing of Hono or kafkajs.
 * @module
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { EventDefinition, EventMessage } from './events.ts';
import type { StoreToken } from './store.ts';

/**
 * Application services injected into every handler (payment provider, notifier, settings, …).
 * Empty here; each function augments it where it declares the port it needs:
 * @example
 * declare module '../../runtime/define.ts' { interface Ports { notifier: Notifier } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by functions (declaration merging)
export interface Ports {}

/** What every handler may use. Built once at start-up, never from globals or `process.env`. */
export interface HandlerDeps<Repo> {
  /** The function's service repository, bound to the invocation's transaction. */
  db: Repo;
  /** Adds events to the outbox in the same transaction; published after commit. Correlation id is filled in. */
  emit: (...events: EventMessage[]) => void;
  clock: () => Date;
  log: Logger;
  ports: Ports;
}

/** Facts about the invocation, for logging and causation. */
export interface InvocationMeta {
  functionId: string;
  correlationId: string;
  /** HTTP request id, or the id of the event being handled. */
  causationId: string;
  /** Event invocations: 1 for the first attempt. */
  attempt: number;
  /**
   * Event invocations: where the message came from; `headers` (as text) and `timestamp` (ms since the epoch, as
   * Kafka has it) are there for functions that fold the log itself (`functions/track-order`).
   */
  source?: {
    topic: string;
    partition: number;
    offset: string;
    headers?: Readonly<Record<string, string>>;
    timestamp?: string;
  };
  /** HTTP invocations: the route that matched, as declared (`/orders/:id`, not the URL), e.g. for scoping. */
  route?: { method: HttpMethod; path: string };
}

/** What an HTTP handler returns. */
export interface HttpResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpInputSchemas {
  body?: z.ZodType;
  params?: z.ZodType;
  query?: z.ZodType;
  /** Validated against lower-cased header names. */
  headers?: z.ZodType;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
export type HttpInput<I extends HttpInputSchemas> = {
  body: Parsed<I['body']>;
  params: Parsed<I['params']>;
  query: Parsed<I['query']>;
  headers: Parsed<I['headers']>;
};

export interface HttpContext<I extends HttpInputSchemas, Repo> {
  input: HttpInput<I>;
  deps: HandlerDeps<Repo>;
  meta: InvocationMeta;
}

export interface HttpFunctionConfig<I extends HttpInputSchemas, Repo> {
  /** Stable id: names the container, logs and metrics. kebab-case. */
  id: string;
  method: HttpMethod;
  /** Hono path(s), e.g. `/orders/:id`. Extra paths are aliases (compatibility routes). */
  path: string | readonly string[];
  store: StoreToken<Repo>;
  input: I;
  /** One-line description for the README / route listing. */
  description?: string;
  /**
   * The answers the handler gives, by status, for the OpenAPI document (`runtime/http/openapi.ts`). Error
   * answers share one shape and are listed by `errors`; what the binding itself answers (400, 413, 500, 503)
   * is added for every function.
   */
  responses?: Readonly<Record<number, HttpResponseDoc>>;
  /**
   * How this function's requests run in a group commit (runtime/group-commit.ts). `'in-turn'` (default): one
   * body after another, each seeing the writes of those before it. `'concurrent'`: when every member of a group
   * says so, their bodies run together, their repository calls one at a time in call order, and the calls of a
   * batched method (`BATCHED` in runtime/store.ts) waiting together go as one statement. Only for a handler
   * whose results do not depend on the order its calls interleave with other requests' (create-order: the
   * insert of its own order, then reads of that order).
   */
  groupCommit?: 'in-turn' | 'concurrent';
  handler: (ctx: HttpContext<I, Repo>) => Promise<HttpResult>;
}

/** One documented answer of an HTTP function. */
export interface HttpResponseDoc {
  description: string;
  /** Body schema; absent for an error answer (the one error shape) or an empty body. */
  schema?: z.ZodType;
  /** An example body; validated against `schema` by the OpenAPI test. */
  example?: unknown;
  /** Error codes this status can carry (`code` of the error body). */
  errors?: readonly string[];
  /** Response headers, by name, with a description. */
  headers?: Readonly<Record<string, string>>;
}

export interface HttpFunction<I extends HttpInputSchemas = HttpInputSchemas, Repo = unknown>
  extends HttpFunctionConfig<I, Repo> {
  readonly kind: 'http';
  readonly paths: readonly string[];
}

/**
 * Defines an HTTP-triggered function.
 * @example
 * export const getOrder = defineHttpFunction({
 *   id: 'get-order', method: 'GET', path: '/orders/:id', store: ordersStore,
 *   input: { params: z.object({ id: orderIdSchema }) },
 *   handler: async ({ input, deps }) => ({ status: 200, body: await deps.db.findOrder(input.params.id) }),
 * });
 */
export function defineHttpFunction<I extends HttpInputSchemas, Repo>(
  config: HttpFunctionConfig<I, Repo>,
): HttpFunction<I, Repo> {
  const paths = typeof config.path === 'string' ? [config.path] : [...config.path];
  return { ...config, kind: 'http', paths };
}

/** Retry policy of an event function: attempts in total (first try included), exponential backoff with jitter. */
export interface RetryPolicy {
  attempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, initialBackoffMs: 100, maxBackoffMs: 5_000 };

/** The message type an event function receives: a union over the events it consumes. */
export type ConsumedEvent<E extends readonly EventDefinition[]> = {
  [K in keyof E]: E[K] extends EventDefinition<infer N, infer S> ? EventMessage<z.infer<S>, N> : never;
}[number];

export interface EventContext<E extends readonly EventDefinition[], Repo, P = undefined> {
  event: ConsumedEvent<E>;
  deps: HandlerDeps<Repo>;
  meta: InvocationMeta;
  /** What the function's `prepare` step returned for this event (`undefined` without one). */
  prepared: P;
}

/** What a `prepare` step gets: no transaction is open, so `deps.db` reads outside one and nothing is emitted. */
export interface PrepareContext<E extends readonly EventDefinition[], Repo> {
  event: ConsumedEvent<E>;
  deps: Omit<HandlerDeps<Repo>, 'emit'>;
  meta: InvocationMeta;
}

/**
 * Longest a handler (or a `prepare` step) may run before its attempt fails with `HandlerTimeoutError`. Below
 * the consumer's session timeout (kafkajs default 30 s), so a hung handler fails its attempt instead of getting
 * its member evicted and the message redelivered from scratch.
 */
export const DEFAULT_HANDLER_TIMEOUT_MS = 15_000;

export interface EventFunctionConfig<E extends readonly EventDefinition[], Repo, P = undefined> {
  id: string;
  /** The events (hence topics) that trigger this function. */
  events: E;
  /** Kafka consumer group; also the inbox consumer name. */
  groupId: string;
  store: StoreToken<Repo>;
  retries?: Partial<RetryPolicy>;
  /** Per-attempt time limit of `prepare` and of `handler`, each. Default {@link DEFAULT_HANDLER_TIMEOUT_MS}. */
  timeoutMs?: number;
  description?: string;
  /**
   * More topics to consume, carrying copies of `events` (e.g. dead-letter topics, for a read model that folds
   * them); decoding does not depend on the topic.
   */
  extraTopics?: readonly string[];
  /**
   * How the items of a consumer batch (one transaction) run. `'in-turn'` (default): one handler after another.
   * `'by-key'`: items with different keys (the key the event's definition derives from the payload, e.g. the
   * order id; not the record's Kafka key) run concurrently, an item waiting for the earlier items of its key; their repository calls go one at a time through a queue that runs waiting calls of a batched method
   * as one statement (runtime/repo-call-queue.ts). Only for a handler that touches the rows of its own key
   * alone (the order of the event), so what it reads does not depend on the other keys' items.
   */
  batchItems?: 'in-turn' | 'by-key';
  /** Record every attempt in the attempt log (`runtime/attempt-log.ts`). Default true; false for a function that folds that log. */
  recordAttempts?: boolean;
  /**
   * What the inbox dedupes on: `event` (default) the event id, so a copy of a handled event is a duplicate;
   * `record` the Kafka record (topic, partition, offset), for a read model that must see every copy of an
   * event — on its topic, on a dead-letter topic, redriven.
   */
  dedupe?: 'event' | 'record';
  /**
   * A record that cannot be decoded: `dead-letter` (default) sends it to the dead-letter topic; `skip` logs and
   * commits it, for a read model folding topics (dead-letter ones) where such records are expected.
   */
  undecodable?: 'dead-letter' | 'skip';
  /**
   * Optional first step, run **outside** any database transaction before each attempt: the place for calls to
   * third parties (payment provider, webhook), which must never hold a transaction (and on PGlite the one
   * connection) open. Its result reaches `handler` as `prepared`. It runs again on every attempt and may run
   * for an event that turns out to be a duplicate, so its calls must be idempotent: pass a key derived from the
   * business id (e.g. the order id) to the third party. It may read (`deps.db` outside a transaction), not write.
   */
  prepare?: (ctx: PrepareContext<E, Repo>) => Promise<P>;
  /** Runs in the transaction that also records the inbox row and the outbox rows of what it emits. */
  handler: (ctx: EventContext<E, Repo, P>) => Promise<void>;
}

export interface EventFunction<
  E extends readonly EventDefinition[] = readonly EventDefinition[],
  Repo = unknown,
  P = unknown,
> extends EventFunctionConfig<E, Repo, P> {
  readonly kind: 'event';
  readonly retryPolicy: RetryPolicy;
  readonly timeoutMs: number;
  /** Dead-letter topic of this function. */
  readonly deadLetterTopic: string;
  /**
   * Redrive topic of this function: dead letters sent back by the ops tooling (`runtime/ops/`) land here, and
   * only this function's consumer group subscribes to it, so other groups of the original topic see no copy.
   */
  readonly redriveTopic: string;
}

/**
 * Defines an event-triggered function, bound to one consumer group.
 * @example
 * export const shipOrder = defineEventFunction({
 *   id: 'ship-order', events: [PaymentCompleted], groupId: 'shipping', store: ordersStore,
 *   handler: async ({ event, deps }) => { await deps.db.insertShipment({ orderId: event.data.orderId, ... }); },
 * });
 */
export function defineEventFunction<const E extends readonly EventDefinition[], Repo, P = undefined>(
  config: EventFunctionConfig<E, Repo, P>,
): EventFunction<E, Repo, P> {
  if (config.events.length === 0) throw new Error(`event function ${config.id} consumes no events`);
  return {
    ...config,
    kind: 'event',
    retryPolicy: { ...DEFAULT_RETRY_POLICY, ...config.retries },
    timeoutMs: config.timeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS,
    deadLetterTopic: `${config.id}.dlq`,
    redriveTopic: `${config.id}.redrive`,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: any HTTP function (handler input types are contravariant)
export type AnyHttpFunction = HttpFunction<any, any>;
// biome-ignore lint/suspicious/noExplicitAny: any event function
export type AnyEventFunction = EventFunction<any, any, any>;
export type AnyFunction = AnyHttpFunction | AnyEventFunction;
