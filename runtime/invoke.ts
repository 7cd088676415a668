/**
 * The transport-free core. Every binding (Hono, kafkajs) and the test helpers call these two functions;
 * they only map their world onto `raw input + meta` and back.
 *
 * One invocation = one store transaction: the handler's writes, the outbox rows of the events it emits
 * and (for events) the inbox record commit together or not at all.
 *
 * Why emitted events are buffered and written after the handler returns, not at `emit()` time: a handler
 * that throws after emitting leaves nothing behind even in stores whose transaction would tolerate it, the
 * rows go in as one batch, and correlation/causation are filled in one place. `onCommitted` fires only after
 * the commit, so the relay never sees (or waits on) a row that could still roll back.
 * @module
 */

import type { Context as TraceContext } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { canonicalEventId, encodeEvent } from './codec.ts';
import {
  DEFAULT_HANDLER_TIMEOUT_MS,
  type EventFunction,
  type HandlerDeps,
  type HttpFunction,
  type HttpInput,
  type HttpInputSchemas,
  type HttpResult,
  type InvocationMeta,
  type Ports,
} from './define.ts';
import { type FieldIssue, HandlerTimeoutError, NonRetriableError, ValidationError } from './errors.ts';
import type { EventMessage } from './events.ts';
import { type GroupCommitOptions, GroupCommitter } from './group-commit.ts';
import { derivedUuid } from './ids.ts';
import { toFieldIssues } from './issues.ts';
import type { Metrics } from './metrics/metrics.ts';
import { GroupAbortedError, RepoCallQueue, runConcurrently } from './repo-call-queue.ts';
import type { NewOutboxRecord, StoreTransaction, TransactionalStore } from './store.ts';
import {
  activeContext,
  injectContext,
  inSpan,
  SpanKind,
  type Tracer,
  withContext,
} from './tracing/tracing.ts';
import { guarded, unavailableOr } from './unavailable.ts';

/** What the runtime is built from at start-up, shared by all functions of a process. */
export interface RuntimeEnv {
  /** Stores by service name (`orders`, `payments`, …). */
  stores: Record<string, TransactionalStore<unknown>>;
  ports: Ports;
  clock: () => Date;
  logger: Logger;
  /** Called after a commit that wrote outbox rows: nudges the outbox relay of that service. */
  onCommitted?: (service: string) => void;
  /** Prometheus metrics of the process (`runtime/metrics/`); absent: nothing is measured. */
  metrics?: Metrics;
  /** OpenTelemetry tracer (`runtime/tracing/`); absent: nothing is traced. */
  tracer?: Tracer;
  /**
   * Group commit of HTTP invocations (runtime/group-commit.ts): options, or `false` for one transaction per
   * request, run concurrently. Default: on, at most 64 requests per group.
   */
  groupCommit?: GroupCommitOptions | false;
}

/** An HTTP request as a binding hands it over, before validation. Header names are lower-case. */
export interface HttpRawInput {
  body: unknown;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
}

/** Outcome of an event invocation. Errors are thrown, not returned. */
export type EventOutcome = 'handled' | 'duplicate';

/**
 * Validates the request, runs the handler in one transaction and returns its result.
 * @throws ValidationError (400, with field issues) when any part of the request fails its schema;
 *   whatever the handler throws (the transaction is rolled back).
 */
export async function invokeHttpFunction(
  // biome-ignore lint/suspicious/noExplicitAny: any HTTP function (handler types are contravariant in their input)
  fn: HttpFunction<any, any>,
  raw: HttpRawInput,
  env: RuntimeEnv,
  meta: InvocationMeta,
): Promise<HttpResult> {
  const input = validateHttpInput(fn.input, raw);
  const body = (deps: HandlerDeps<unknown>) => fn.handler({ input, deps, meta });
  if (!groupable(fn, raw, env)) return runInTransaction(fn, env, meta, body);
  return runGrouped(fn, env, meta, body);
}

/**
 * Whether a request goes through the store's group commit. Not when it is off, and not for
 * - a `GET`: a read has no commit to share, a read that fails (a 404) would make its group roll back and redo
 *   every write in it, and on a pooled store reads run side by side anyway;
 * - a request with an `Idempotency-Key` (below).
 */
function groupable(fn: { method: string }, raw: HttpRawInput, env: RuntimeEnv): boolean {
  return (
    env.groupCommit !== false && fn.method !== 'GET' && raw.headers[IDEMPOTENCY_KEY_HEADER] === undefined
  );
}

/**
 * A request carrying this header runs alone, in its own transaction, as without group commit: its handler may
 * take a lock named after the key (create-order's advisory lock), and such locks are re-entrant within one
 * session, so two members of one group with the same key would both get it. Alone, too, a request whose key is
 * still in flight is answered at once (409), not after the group it would wait for. Keyed requests are the
 * retries of clients that care; they do not need the throughput.
 */
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

const committers = new WeakMap<RuntimeEnv, Map<string, GroupCommitter>>();

/** The group commit of `store` in `env` (one per store and environment, made on first use). */
function committerFor(env: RuntimeEnv, store: TransactionalStore<unknown>): GroupCommitter {
  let byService = committers.get(env);
  if (byService === undefined) {
    byService = new Map();
    committers.set(env, byService);
  }
  let committer = byService.get(store.service);
  if (committer === undefined) {
    committer = new GroupCommitter(
      (work) => inStoreTransaction(store, env.metrics, work),
      () => env.onCommitted?.(store.service),
      env.groupCommit || {},
    );
    byService.set(store.service, committer);
  }
  return committer;
}

/**
 * An HTTP invocation through the store's group commit (runtime/group-commit.ts): its body runs in a transaction
 * it may share with concurrent requests, and it is answered after that transaction's commit. Each request keeps
 * its own `transaction <service>` span (with the size of its group), from joining to the commit; its body runs in
 * that span's context, so the events it emits continue its own trace. Its body is bounded by the group
 * commit's `timeoutMs`, so a hung handler cannot hold the group, hence the store, forever.
 */
async function runGrouped(
  fn: { id: string; store: { service: string }; groupCommit?: 'in-turn' | 'concurrent' },
  env: RuntimeEnv,
  meta: InvocationMeta,
  body: (deps: HandlerDeps<unknown>) => Promise<HttpResult>,
): Promise<HttpResult> {
  const store = storeFor(env, fn);
  return inSpan(
    env.tracer,
    `transaction ${store.service}`,
    { kind: SpanKind.INTERNAL, attributes: { 'db.namespace': store.service, 'orderflow.function': fn.id } },
    (span) => {
      const trace = activeContext();
      return committerFor(env, store).submit({
        run: (tx) =>
          withTimeout(
            withContext(trace, () => runBody(fn, env, meta, tx, body)),
            (env.groupCommit || undefined)?.timeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS,
            `${fn.id}: handler`,
          ),
        joined: (size) => span?.setAttribute('orderflow.group_size', size),
        concurrent: fn.groupCommit === 'concurrent',
      });
    },
  );
}

/**
 * Handles one event exactly once per consumer group: records `(groupId, event id)` in the inbox and runs the
 * handler in the same transaction. A duplicate is acknowledged without running the handler.
 * @throws NonRetriableError when the message is not one the function consumes; whatever the handler throws.
 */
export async function invokeEventFunction(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  message: EventMessage,
  env: RuntimeEnv,
  meta: InvocationMeta,
  options: InvokeEventOptions = {},
): Promise<EventOutcome> {
  if (!consumes(fn, message)) {
    throw new NonRetriableError(`${fn.id} does not consume ${message.type} v${message.version}`);
  }
  const prepared = await runPrepare(fn, message, env, meta);
  return runInTransaction(
    fn,
    env,
    meta,
    async (deps, tx): Promise<EventOutcome> => {
      const first = await tx.recordInbox(fn.groupId, inboxId(fn, message, meta));
      if (!first) {
        deps.log.info({ eventId: message.id, eventType: message.type }, 'duplicate event skipped');
        return 'duplicate';
      }
      await runHandler(fn, { event: message, deps, meta, prepared });
      return 'handled';
    },
    (outcome) => optionalRecord(options.attemptRecord?.(outcome)),
  );
}

export interface InvokeEventOptions {
  /** The attempt-log row of this attempt (`runtime/attempt-log.ts`), written in its transaction. */
  attemptRecord?: (outcome: EventOutcome) => NewOutboxRecord | undefined;
}

const optionalRecord = (record: NewOutboxRecord | undefined): NewOutboxRecord[] =>
  record === undefined ? [] : [record];

/**
 * The id the inbox records: the event id, or with `dedupe: 'record'` a UUID derived from the Kafka record
 * (topic, partition, offset), so every copy of an event counts once.
 */
export function inboxId(
  fn: { dedupe?: 'event' | 'record' },
  message: EventMessage,
  meta: InvocationMeta,
): string {
  if (fn.dedupe !== 'record' || meta.source === undefined) return message.id;
  const { topic, partition, offset } = meta.source;
  return derivedUuid(`${topic}:${partition}:${offset}`);
}

// biome-ignore lint/suspicious/noExplicitAny: any event function
function consumes(fn: EventFunction<any, any, any>, message: EventMessage): boolean {
  return (fn.events as EventFunction['events']).some(
    (definition) => definition.name === message.type && definition.version === message.version,
  );
}

/**
 * Runs the function's `prepare` step, if it has one, outside any transaction and within `timeoutMs`. Its reads
 * go through the store's guard, so a database outage there is a `DependencyUnavailableError` too.
 */
async function runPrepare(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  message: EventMessage,
  env: RuntimeEnv,
  meta: InvocationMeta,
  repo?: object,
): Promise<unknown> {
  if (fn.prepare === undefined) return undefined;
  const store = storeFor(env, fn);
  const deps = {
    db: repo ?? guarded(store, store.repo as object),
    clock: env.clock,
    log: env.logger.child({ functionId: meta.functionId, correlationId: meta.correlationId }),
    ports: env.ports,
  };
  return withTimeout(fn.prepare({ event: message, deps, meta }), fn.timeoutMs, `${fn.id}: prepare`);
}

async function runHandler(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  ctx: { event: EventMessage; deps: HandlerDeps<unknown>; meta: InvocationMeta; prepared: unknown },
): Promise<void> {
  await withTimeout(fn.handler(ctx), fn.timeoutMs, `${fn.id}: handler`);
}

/**
 * `work`, or a `HandlerTimeoutError` after `ms`. A handler that times out keeps running in the background
 * (JavaScript cannot stop it); its transaction is rolled back, so whatever it does afterwards through it fails.
 */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(`${what} did not finish within ${ms} ms`)), ms);
  });
  work.catch(() => {}); // a late rejection after the timeout must not become an unhandled one
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The meta of an event invocation: correlation from the message (or its id), causation = the message id. */
export function eventInvocationMeta(
  fn: Pick<EventFunction, 'id'>,
  message: EventMessage,
  extra: Partial<Pick<InvocationMeta, 'attempt' | 'source'>> = {},
): InvocationMeta {
  return {
    functionId: fn.id,
    correlationId: message.correlationId ?? message.id,
    causationId: message.id,
    attempt: extra.attempt ?? 1,
    ...(extra.source === undefined ? {} : { source: extra.source }),
  };
}

/** Resolves the function's store; a missing store is a wiring mistake, reported as a plain (500) error. */
export function storeFor(
  env: RuntimeEnv,
  fn: { id: string; store: { service: string } },
): TransactionalStore<unknown> {
  const store = env.stores[fn.store.service];
  if (store === undefined) {
    throw new Error(`no store for service "${fn.store.service}" (needed by ${fn.id})`);
  }
  return store;
}

async function runInTransaction<T>(
  fn: { id: string; store: { service: string } },
  env: RuntimeEnv,
  meta: InvocationMeta,
  body: (deps: HandlerDeps<unknown>, tx: StoreTransaction<unknown>) => Promise<T>,
  extra?: (value: T) => NewOutboxRecord[],
): Promise<T> {
  const store = storeFor(env, fn);
  let emittedCount = 0;
  const result = await inSpan(
    env.tracer,
    `transaction ${store.service}`,
    { kind: SpanKind.INTERNAL, attributes: { 'db.namespace': store.service, 'orderflow.function': fn.id } },
    () =>
      inStoreTransaction(store, env.metrics, async (tx) => {
        const ran = await runBody(fn, env, meta, tx, body);
        const { value } = ran;
        const records = [...ran.records, ...(extra?.(value) ?? [])];
        if (records.length > 0) await tx.appendOutbox(records);
        emittedCount = records.length;
        return value;
      }),
  );
  if (emittedCount > 0) env.onCommitted?.(store.service);
  return result;
}

/**
 * `store.transaction(work)` with every store call guarded (see unavailable.ts): an error of the body is passed
 * on as the body threw it; a failure of the transaction itself (BEGIN, COMMIT) is classified too.
 */
async function inStoreTransaction<T>(
  store: TransactionalStore<unknown>,
  metrics: Metrics | undefined,
  work: (tx: StoreTransaction<unknown>) => Promise<T>,
): Promise<T> {
  const thrown = new Set<unknown>();
  const started = metrics === undefined ? 0 : performance.now();
  let outcome: 'commit' | 'rollback' = 'rollback';
  try {
    const value = await store.transaction(async (raw) => {
      const tx = guarded(store, { ...raw, repo: guarded(store, raw.repo as object) });
      try {
        return await work(tx);
      } catch (error) {
        thrown.add(error);
        throw error;
      }
    });
    outcome = 'commit';
    return value;
  } catch (error) {
    throw thrown.has(error) ? error : unavailableOr(store, error);
  } finally {
    metrics?.transaction(store.service, (performance.now() - started) / 1000, outcome);
  }
}

/** Runs one handler body inside `tx`; returns its value and the outbox rows of the events it emitted. */
async function runBody<T>(
  fn: { id: string },
  env: RuntimeEnv,
  meta: InvocationMeta,
  tx: StoreTransaction<unknown>,
  body: (deps: HandlerDeps<unknown>, tx: StoreTransaction<unknown>) => Promise<T>,
): Promise<{ value: T; records: NewOutboxRecord[] }> {
  const emitted: EventMessage[] = [];
  let open = true;
  const deps: HandlerDeps<unknown> = {
    db: tx.repo,
    emit: (...events) => {
      if (!open) throw new Error(`${fn.id}: emit() called after the handler returned`);
      emitted.push(...events);
    },
    clock: env.clock,
    log: env.logger.child({ functionId: meta.functionId, correlationId: meta.correlationId }),
    ports: env.ports,
  };
  const value = await body(deps, tx);
  open = false;
  const records = emitted.map((event) => {
    const record = encodeEvent(withTrace(event, meta));
    // Which function produced it: for the order timeline (functions/track-order).
    return { ...record, headers: { ...record.headers, [PRODUCER_HEADER]: fn.id } };
  });
  // The trace goes with the row: the relay's publish span, and then each consumer, continue it.
  if (env.tracer !== undefined) for (const record of records) injectContext(activeContext(), record.headers);
  return { value, records };
}

/** One event of a batch, with the meta of its invocation. */
export interface BatchItem {
  message: EventMessage;
  meta: InvocationMeta;
  /** Trace context the item's handler runs in (its consumer span), so its events continue its own trace. */
  trace?: TraceContext;
  /** Called in the transaction when the item's handler is done (or it was a duplicate), with its outcome. */
  done?: (outcome: EventOutcome) => void;
}

export interface InvokeEventBatchOptions {
  /** Runs between two items (the consumer's heartbeat); what it throws ends the batch as it is. */
  between?: () => Promise<void>;
  /**
   * The batch's attempt-log rows (`runtime/attempt-log.ts`), asked for after every item's `done`: written last in
   * its transaction, so they commit with the effects they record.
   */
  attemptLog?: () => readonly NewOutboxRecord[];
}

/** Header naming the function whose handler emitted an event. */
export const PRODUCER_HEADER = 'event-producer';

/** A handler of a batch failed: the batch was rolled back; `index` is the item that failed. */
export class BatchItemError extends Error {
  readonly index: number;
  constructor(index: number, cause: unknown) {
    super(`batch item ${index} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'BatchItemError';
    this.index = index;
  }
}

/**
 * Handles several events of one function in **one** transaction, in order, each exactly once per consumer
 * group: for each, the inbox record, then (unless it is a duplicate) the handler; the outbox rows of every
 * handled event are written at the end, in event order, before the commit. Nothing of the batch commits unless
 * all of it does. Resolves each item's outcome.
 * @throws BatchItemError naming the item whose handler (or inbox record) failed; any other error (outbox,
 *   commit) as it is. Either way the whole batch was rolled back.
 */
export async function invokeEventBatch(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  items: readonly BatchItem[],
  env: RuntimeEnv,
  options: InvokeEventBatchOptions = {},
): Promise<EventOutcome[]> {
  items.forEach(({ message }, index) => {
    if (!consumes(fn, message)) {
      throw new BatchItemError(
        index,
        new NonRetriableError(`${fn.id} does not consume ${message.type} v${message.version}`),
      );
    }
  });
  // Every `prepare` runs before the transaction opens (third-party calls never hold it open).
  const prepared =
    fn.batchItems === 'by-key' && fn.prepare !== undefined && items.length > 1
      ? await prepareTogether(fn, items, env)
      : await prepareInTurn(fn, items, env);
  const store = storeFor(env, fn);
  let emittedCount = 0;
  const outcomes = await inStoreTransaction(store, env.metrics, async (tx) => {
    const results: EventOutcome[] = [];
    const records: NewOutboxRecord[] = [];
    // One inbox statement for the whole batch when the store offers it; an id listed twice is new only once.
    const fresh =
      tx.recordInboxMany === undefined
        ? undefined
        : await tx.recordInboxMany(
            fn.groupId,
            items.map((item) => canonicalEventId(inboxId(fn, item.message, item.meta))),
          );
    /** Runs item `index` in `itemTx`; throws what its handler (or inbox record) threw. */
    const runItem = async (index: number, itemTx: StoreTransaction<unknown>): Promise<EventOutcome> => {
      const { message, meta, done } = items[index]!;
      const ran = await withContext(items[index]!.trace, () =>
        runBody(fn, env, meta, itemTx, async (deps) => {
          const id = inboxId(fn, message, meta);
          const first =
            fresh === undefined
              ? await itemTx.recordInbox(fn.groupId, id)
              : fresh.delete(canonicalEventId(id));
          if (!first) {
            deps.log.info({ eventId: message.id, eventType: message.type }, 'duplicate event skipped');
            return 'duplicate' as const;
          }
          await runHandler(fn, { event: message, deps, meta, prepared: prepared[index] });
          return 'handled' as const;
        }),
      );
      done?.(ran.value);
      perItem[index] = ran.records;
      return ran.value;
    };
    const perItem: NewOutboxRecord[][] = [];
    if (fn.batchItems === 'by-key' && items.length > 1) {
      await options.between?.();
      results.push(...(await runByKey(fn, items, tx, runItem)));
    } else {
      for (const index of items.keys()) {
        // Not the item's failure when it throws (e.g. a heartbeat that reports a rebalance): passed on as it is.
        if (index > 0) await options.between?.();
        try {
          results.push(await runItem(index, tx));
        } catch (error) {
          throw new BatchItemError(index, error);
        }
      }
    }
    records.push(...perItem.flat());
    records.push(...(options.attemptLog?.() ?? []));
    if (records.length > 0) await tx.appendOutbox(records);
    emittedCount = records.length;
    return results;
  });
  if (emittedCount > 0) env.onCommitted?.(store.service);
  return outcomes;
}

/**
 * The items of a `batchItems: 'by-key'` batch: each key's items one after another, the keys concurrently, every
 * repository call through one {@link RepoCallQueue} (one statement at a time; waiting batched calls as one).
 * The first item to fail fails the batch (the queue then refuses the others' calls); its `BatchItemError` is
 * thrown once every item has settled, so nothing still runs in the transaction when it rolls back. A batched
 * statement failing for several items is nobody's alone: thrown as it is (the consumer then handles the
 * messages one at a time).
 */
async function runByKey(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  items: readonly BatchItem[],
  tx: StoreTransaction<unknown>,
  runItem: (index: number, tx: StoreTransaction<unknown>) => Promise<EventOutcome>,
): Promise<EventOutcome[]> {
  const queue = new RepoCallQueue(tx.repo as object);
  const shared: StoreTransaction<unknown> = {
    ...tx,
    repo: queue.repo,
    recordInbox: (consumer, eventId) => queue.run(() => tx.recordInbox(consumer, eventId)),
  };
  const lastOfKey = new Map<string, Promise<unknown>>();
  const outcome = await runConcurrently(
    queue,
    items.map((item, index) => () => {
      const key = rowsKey(fn, item.message);
      const run = (lastOfKey.get(key) ?? Promise.resolve())
        .catch(() => {})
        .then(() => {
          if (queue.aborted) throw new GroupAbortedError('an earlier item of the batch failed');
          return runItem(index, shared);
        });
      lastOfKey.set(key, run);
      return run;
    }),
  );
  if ('values' in outcome) return outcome.values;
  if (outcome.failed.shared) throw outcome.failed.error;
  throw new BatchItemError(outcome.failed.index, outcome.failed.error);
}

/** Each item's `prepare`, one after another; the first to fail fails the batch at its index. */
async function prepareInTurn(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  items: readonly BatchItem[],
  env: RuntimeEnv,
): Promise<unknown[]> {
  const prepared: unknown[] = [];
  for (const [index, { message, meta }] of items.entries()) {
    try {
      prepared.push(await runPrepare(fn, message, env, meta));
    } catch (error) {
      throw new BatchItemError(index, error);
    }
  }
  return prepared;
}

/**
 * A `by-key` batch's `prepare` steps all at once (their third-party calls in parallel), their reads through one
 * {@link RepoCallQueue} over the store's autocommit repository (waiting batched calls as one statement). The
 * lowest index that failed fails the batch, once every step settled.
 */
async function prepareTogether(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  items: readonly BatchItem[],
  env: RuntimeEnv,
): Promise<unknown[]> {
  const store = storeFor(env, fn);
  const queue = new RepoCallQueue(guarded(store, store.repo as object));
  const runs = items.map(({ message, meta }) => runPrepare(fn, message, env, meta, queue.repo));
  setImmediate(() => queue.start());
  const settled = await Promise.allSettled(runs);
  const failed = settled.findIndex((outcome) => outcome.status === 'rejected');
  if (failed !== -1) throw new BatchItemError(failed, (settled[failed] as PromiseRejectedResult).reason);
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value);
}

/**
 * The key whose rows a `by-key` handler touches: the one its event's definition derives from the payload (the
 * order id), not the record's Kafka key, which a producer may have set to anything.
 */
// biome-ignore lint/suspicious/noExplicitAny: any event function
function rowsKey(fn: EventFunction<any, any, any>, message: EventMessage): string {
  const definition = (fn.events as EventFunction['events']).find(
    (event) => event.name === message.type && event.version === message.version,
  );
  return definition === undefined ? message.key : definition.key(message.data);
}

/** Fills correlation and causation from the invocation when the handler did not set them. */
function withTrace(event: EventMessage, meta: InvocationMeta): EventMessage {
  return {
    ...event,
    correlationId: event.correlationId ?? meta.correlationId,
    causationId: event.causationId ?? meta.causationId,
  };
}

const PARTS = ['body', 'params', 'query', 'headers'] as const;

/** Validates each declared part; collects every field issue of every part before failing. */
export function validateHttpInput<I extends HttpInputSchemas>(schemas: I, raw: HttpRawInput): HttpInput<I> {
  const input: HttpInput<HttpInputSchemas> = {
    body: undefined,
    params: undefined,
    query: undefined,
    headers: undefined,
  };
  const issues: FieldIssue[] = [];
  for (const part of PARTS) {
    const schema: z.ZodType | undefined = schemas[part];
    if (schema === undefined) continue;
    const parsed = schema.safeParse(raw[part]);
    if (parsed.success) input[part] = parsed.data;
    // Body fields are named as the client sent them (`amount`); other parts are prefixed (`params.id`).
    else issues.push(...toFieldIssues(parsed.error, part === 'body' ? undefined : part));
  }
  if (issues.length > 0) {
    for (const issue of issues) if (issue.path === '') issue.path = 'body';
    throw new ValidationError('Request validation failed', { details: issues });
  }
  return input as HttpInput<I>;
}
