/**
 * One Kafka message through one event function: decode, invoke with retries, dead-letter, or pause for an
 * unavailable dependency. Never throws except a heartbeat error (the group is rebalancing), which the consumer
 * must see. Design: ARCHITECTURE.md beside this file ("Retries", "Attempts", "Pausing").
 * @module
 */
import type { KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { attemptRecord, attemptsRecords, type LoggedAttempt, loggedAttemptOf } from '../attempt-log.ts';
import { decodeEvent } from '../codec.ts';
import type { EventFunction, InvocationMeta } from '../define.ts';
import { type InfrastructureFailure, infrastructureFailure, isRetriable } from '../errors.ts';
import type { EventMessage } from '../events.ts';
import { derivedUuid } from '../ids.ts';
import {
  type BatchItem,
  BatchItemError,
  eventInvocationMeta,
  invokeEventBatch,
  invokeEventFunction,
  type RuntimeEnv,
  storeFor,
} from '../invoke.ts';
import type { AttemptRecord } from '../store.ts';
import { extractContext, failed, inSpan, SpanKind, startChild } from '../tracing/tracing.ts';
import { ACKS_ALL } from './acks.ts';
import type { AttemptCounter } from './attempts.ts';
import {
  type DeadLetterInfo,
  deadLetterMessage,
  describeError,
  REDRIVE_COUNT_HEADER,
} from './dead-letter.ts';
import { retryDelayMs, type WaitControl, waitWithHeartbeat } from './retry.ts';

/** Any event function: handler parameters are contravariant, so only `any` accepts every definition. */
// biome-ignore lint/suspicious/noExplicitAny: see above; the same alias as `AnyFunction` in define.ts
export type AnyEventFunction = EventFunction<any, any, any>;

/** What processing a message needs; built once per consumer. */
export interface MessageProcessor {
  fn: AnyEventFunction;
  env: RuntimeEnv;
  producer: Producer;
  log: Logger;
  clock: () => Date;
  random: () => number;
  attempts: AttemptCounter;
}

/** A dependency is down: the partition must pause; nothing was committed and no attempt was spent. */
export interface Paused {
  paused: InfrastructureFailure;
}

/**
 * - `handled` / `duplicate` / `dead-lettered`: done, the offset may be committed;
 * - `abandoned`: the consumer is stopping mid-retry, do not commit (redelivered to whoever gets the partition);
 * - `dead-letter-failed`: could not publish to the dead-letter topic, do not commit (redelivered, nothing lost);
 * - `{ paused }`: the infrastructure failed (database, provider): pause the partition, retry later, do not commit.
 */
export type MessageOutcome =
  | 'handled'
  | 'duplicate'
  | 'dead-lettered'
  | 'abandoned'
  | 'dead-letter-failed'
  | Paused;

/** True for the outcomes after which the message's offset may be committed. */
export function isDone(outcome: MessageOutcome): outcome is 'handled' | 'duplicate' | 'dead-lettered' {
  return outcome === 'handled' || outcome === 'duplicate' || outcome === 'dead-lettered';
}

export function isPaused(outcome: unknown): outcome is Paused {
  return typeof outcome === 'object' && outcome !== null && 'paused' in outcome;
}

/** Where a message came from. */
export interface MessageSource {
  topic: string;
  partition: number;
}

export interface ProcessMessageOptions {
  /** Attempt 1 already ran (in a batch, uncounted) and failed with this error: go on from there. */
  firstFailure?: { error: unknown };
  /**
   * The message may have been delivered before without finishing (first messages after an assignment): count
   * its attempt durably *before* it runs, so a message that keeps killing its consumer is dead-lettered.
   */
  cold?: boolean;
  /** Its attempt was counted already (by a cold batch's `begin`, see `processBatch`): this record includes it. */
  counted?: AttemptRecord;
}

/** Processes one message to an outcome; see {@link MessageOutcome}. */
export async function processMessage(
  p: MessageProcessor,
  source: MessageSource,
  raw: KafkaMessage,
  control: WaitControl,
  options: ProcessMessageOptions = {},
): Promise<MessageOutcome> {
  const where = { topic: source.topic, partition: source.partition, offset: raw.offset };
  const decoded = decodeEvent({ key: raw.key, value: raw.value, headers: raw.headers ?? {} }, p.fn.events);
  if (!decoded.ok && p.fn.undecodable === 'skip') {
    p.log.info({ ...where, reason: decoded.reason }, 'undecodable message: skipped');
    return 'handled';
  }
  if (!decoded.ok) {
    p.log.warn({ ...where, reason: decoded.reason }, 'undecodable message: dead-lettering');
    return deadLetter(p, raw, where, control, {
      kind: 'invalid-message',
      reason: decoded.reason,
      errorName: 'DecodeError',
      attempts: 0,
    });
  }
  const message = decoded.message;
  observeAge(p, source.topic, message);
  // A redriven copy counts its attempts afresh (its own key), its inbox row is still the event's id.
  const attemptsId = attemptsKey(message.id, raw);
  const max = p.fn.retryPolicy.attempts;
  const logged = (attempt: number) => ({ ...where, eventId: message.id, eventType: message.type, attempt });

  /** The attempt number of a counted attempt, or the outcome that ends here when its attempts are used up. */
  const admit = (record: AttemptRecord): Promise<number | MessageOutcome> | number =>
    record.attempts <= max ? record.attempts : exhausted(p, raw, where, control, message, record);
  /** Counts the next attempt before it runs; resolves the attempt number, or an outcome that ends here. */
  const begin = async (): Promise<number | MessageOutcome> => {
    let record: AttemptRecord;
    try {
      record = (await p.attempts.begin([attemptsId])).get(attemptsId) ?? { attempts: 1, lastError: null };
    } catch (error) {
      return pausedOrThrow(error);
    }
    return admit(record);
  };

  let begun = false;
  let attempt = 1;
  let failure: unknown = options.firstFailure?.error;
  let failed = options.firstFailure !== undefined;
  if (!failed && (options.cold === true || options.counted !== undefined)) {
    const started = options.counted === undefined ? await begin() : await admit(options.counted);
    if (typeof started !== 'number') return started;
    attempt = started;
    begun = true;
  }
  const metaSource = sourceOf(where, raw);
  const recording = p.fn.recordAttempts !== false;
  for (;;) {
    let meta = eventInvocationMeta(p.fn, message, { attempt, source: metaSource });
    const startedAt = p.clock();
    const t0 = performance.now();
    if (!failed) {
      try {
        return await inSpan(
          p.env.tracer,
          `process ${source.topic}`,
          {
            kind: SpanKind.CONSUMER,
            parent: extractContext(raw.headers ?? {}),
            attributes: spanAttributes(p, where, raw, message, attempt),
          },
          () =>
            invokeEventFunction(p.fn, message, p.env, meta, {
              ...(recording
                ? {
                    attemptRecord: (outcome) =>
                      attemptRecord({
                        fn: p.fn,
                        message,
                        meta,
                        outcome,
                        startedAt,
                        durationMs: performance.now() - t0,
                      }),
                  }
                : {}),
            }),
        );
      } catch (error) {
        failure = error;
      }
    }
    failed = false;
    const durationMs = performance.now() - t0;
    const down = infrastructureFailure(failure);
    if (down !== undefined) {
      if (begun) await p.attempts.refund([attemptsId]);
      p.log.warn(
        { ...logged(attempt), dependency: down.dependency, err: failure },
        'dependency unavailable: pausing the partition (no attempt spent)',
      );
      return { paused: down };
    }
    const { name, message: text } = describeError(failure);
    let record: AttemptRecord;
    try {
      record = await p.attempts.fail(attemptsId, `${name}: ${text}`, begun);
    } catch (error) {
      return pausedOrThrow(error);
    }
    attempt = record.attempts;
    meta = { ...meta, attempt };
    const log = { ...logged(attempt), err: failure };
    const final = !isRetriable(failure) || attempt >= max;
    await recordFailedAttempt(p, message, meta, {
      outcome: final ? 'dead-lettered' : 'retried',
      startedAt,
      durationMs,
      error: `${name}: ${text}`,
    });
    if (final) {
      const kind = isRetriable(failure) ? 'retries-exhausted' : 'non-retriable';
      p.log.error({ ...log, kind }, 'event handler failed: dead-lettering');
      return deadLetter(p, raw, where, control, { kind, reason: text, errorName: name, attempts: attempt });
    }
    const delayMs = retryDelayMs(p.fn.retryPolicy, attempt, failure, p.random);
    p.log.warn({ ...log, delayMs }, 'event handler failed: retrying');
    p.env.metrics?.retried({ function: p.fn.id, group: p.fn.groupId, topic: source.topic });
    if (!(await waitWithHeartbeat(delayMs, control))) {
      p.log.info(log, 'consumer stopping: retry abandoned, message left uncommitted');
      return 'abandoned';
    }
    const started = await begin();
    if (typeof started !== 'number') return started;
    attempt = started;
    begun = true;
  }
}

/** OpenTelemetry messaging attributes of a consumer span, plus the order id and the attempt. */
function spanAttributes(
  p: MessageProcessor,
  where: MessageSource & { offset: string },
  raw: KafkaMessage,
  message: EventMessage,
  attempt: number,
) {
  const orderId = (message.data as { orderId?: unknown } | null)?.orderId;
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': where.topic,
    'messaging.destination.partition.id': String(where.partition),
    'messaging.kafka.offset': Number(where.offset),
    'messaging.consumer.group.name': p.fn.groupId,
    'messaging.message.id': message.id,
    ...(raw.key === null ? {} : { 'messaging.kafka.message.key': raw.key.toString() }),
    'orderflow.function': p.fn.id,
    'orderflow.event.type': message.type,
    'orderflow.attempt': attempt,
    ...(typeof orderId === 'string' ? { 'orderflow.order.id': orderId } : {}),
  };
}

/** Age of the event at this delivery: the runtime clock minus the event's time. */
function observeAge(p: MessageProcessor, topic: string, message: EventMessage): void {
  const metrics = p.env.metrics;
  if (metrics === undefined) return;
  const seconds = (p.clock().getTime() - Date.parse(message.time)) / 1000;
  if (Number.isFinite(seconds)) metrics.eventAge({ function: p.fn.id, group: p.fn.groupId, topic }, seconds);
}

/**
 * The key a message's attempts are counted under: its event id, or for the n-th redrive of a dead letter
 * (`redrive-count` header, `runtime/ops/dead-letters.ts`) a UUID derived from (event id, n), so a redriven
 * event gets its full retry budget again instead of being dead-lettered at once by the count that sent it to
 * the dead-letter topic. The inbox still keys on the event id: a redrive of a handled event is a duplicate.
 */
export function attemptsKey(eventId: string, raw: KafkaMessage): string {
  const value = raw.headers?.[REDRIVE_COUNT_HEADER];
  const count = (Array.isArray(value) ? value.at(-1) : value)?.toString();
  if (count === undefined || count === '0') return eventId;
  return derivedUuid(`${eventId}:redrive:${count}`);
}

/** Where a message came from, with its headers as text and its timestamp, for the invocation's meta. */
function sourceOf(
  where: MessageSource & { offset: string },
  raw: KafkaMessage,
): NonNullable<InvocationMeta['source']> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    const one = Array.isArray(value) ? value.at(-1) : value;
    if (one !== undefined) headers[name] = one.toString();
  }
  return { ...where, headers, timestamp: raw.timestamp };
}

/**
 * Records a failed attempt in the attempt log, in a transaction of its own (the handler's was rolled back).
 * Best effort: a failure to record is logged and does not change what happens to the message.
 */
async function recordFailedAttempt(
  p: MessageProcessor,
  message: EventMessage,
  meta: InvocationMeta,
  facts: { outcome: 'retried' | 'dead-lettered'; startedAt: Date; durationMs: number; error: string },
): Promise<void> {
  if (p.fn.recordAttempts === false) return;
  const store = storeFor(p.env, p.fn);
  try {
    await store.transaction((tx) => tx.appendOutbox([attemptRecord({ fn: p.fn, message, meta, ...facts })]));
    p.env.onCommitted?.(store.service);
  } catch (error) {
    p.log.warn({ err: error, eventId: message.id }, 'could not record a failed attempt');
  }
}

/** An error of the attempt counter itself: an outage pauses; anything else is a bug and is thrown. */
function pausedOrThrow(error: unknown): Paused {
  const down = infrastructureFailure(error);
  if (down === undefined) throw error;
  return { paused: down };
}

/**
 * The message has used up its attempts before this one could run: earlier attempts failed, or never finished
 * (the consumer crashed, was evicted or timed out with it). Dead-lettered — unless it was handled after all
 * (only its offset commit was lost), then it is a duplicate.
 */
async function exhausted(
  p: MessageProcessor,
  raw: KafkaMessage,
  where: MessageSource & { offset: string },
  control: WaitControl,
  message: EventMessage,
  record: AttemptRecord,
): Promise<MessageOutcome> {
  try {
    if (await p.attempts.handled(message.id)) return 'duplicate';
  } catch (error) {
    return pausedOrThrow(error);
  }
  const ran = record.attempts - 1;
  const reason =
    record.lastError ??
    `${ran} attempt(s) started and none finished: the consumer crashed, was evicted or timed out each time`;
  p.log.error({ ...where, eventId: message.id, attempts: ran, reason }, 'attempts used up: dead-lettering');
  return deadLetter(p, raw, where, control, {
    kind: 'retries-exhausted',
    reason,
    errorName: record.lastError === null ? 'AttemptsExhausted' : (record.lastError.split(':')[0] ?? 'Error'),
    attempts: ran,
  });
}

type Failure = Pick<DeadLetterInfo, 'kind' | 'reason' | 'errorName' | 'attempts'>;

async function deadLetter(
  p: MessageProcessor,
  raw: KafkaMessage,
  where: MessageSource & { offset: string },
  control: WaitControl,
  failure: Failure,
): Promise<MessageOutcome> {
  const info: DeadLetterInfo = { ...failure, ...where, functionId: p.fn.id, failedAt: p.clock() };
  try {
    await p.producer.send({
      topic: p.fn.deadLetterTopic,
      acks: ACKS_ALL,
      messages: [deadLetterMessage(raw, info)],
    });
    return 'dead-lettered';
  } catch (error) {
    p.log.error(
      { ...where, err: error, dlq: p.fn.deadLetterTopic },
      'dead-lettering failed: message left uncommitted',
    );
    // Pause before the redelivery, so a dead-letter topic that is down is not hammered.
    await waitWithHeartbeat(p.fn.retryPolicy.maxBackoffMs, control);
    return 'dead-letter-failed';
  }
}

/** What a batch step did: `done` messages from the front are finished (commit their offsets). */
export type BatchStep =
  | { kind: 'batch'; done: number; handled: number }
  | { kind: 'single'; outcome: MessageOutcome }
  | { kind: 'retry-smaller'; size: number; failure: { offset: string; error: unknown } };

/** A heartbeat between the items of a batch failed (rebalance): the batch gives up and the error goes on. */
class HeartbeatFailed extends Error {}

export interface ProcessBatchOptions {
  /**
   * The front of the batch is cold (first messages after an assignment, see `ProcessMessageOptions.cold`): the
   * attempts of the whole batch are counted in one statement before it runs. A message whose count shows an
   * earlier attempt (one that failed, or that never finished: a previous member may have died on it) ends the
   * batch before it and then goes alone, counted; the others' counts are taken back. A message that kills its
   * consumer is therefore counted once per death, and its neighbours are not blamed for it.
   */
  cold?: boolean;
}

/**
 * Handles the decodable messages at the front of `raws` (up to the first one that does not decode) in one
 * transaction via `invokeEventBatch`. When that is not possible or fails, it falls back so that the
 * per-message guarantees hold:
 * - the first message does not decode, or the batch is a single message → that message alone, as always;
 * - cold, and a message has an earlier attempt → the messages before it as a batch, or it alone when it is first;
 * - a cold batch that does not commit → its counts are taken back first (the fallbacks count what they run);
 * - a dependency is unavailable (database, provider) → `{ paused }` for the whole partition, nothing spent;
 * - the handler of message k failed → if k > 0, the k messages before it are retried as a smaller batch
 *   (`retry-smaller`: nothing was committed; the caller then hands message k to `processMessage` with its
 *   failure); if k = 0 it goes on alone from attempt 2, its batch attempt counting as attempt 1: retried with
 *   back-off, or dead-lettered alone;
 * - anything else failed (outbox, commit) → the first message alone, from attempt 1.
 */
export async function processBatch(
  p: MessageProcessor,
  source: MessageSource,
  raws: readonly KafkaMessage[],
  control: WaitControl,
  options: ProcessBatchOptions = {},
): Promise<BatchStep> {
  const cold = options.cold === true;
  const items: BatchItem[] = [];
  const decodedRaws: KafkaMessage[] = [];
  const startedAt = p.clock();
  // Each item's duration: from the end of the previous one (the items run one after another).
  let last = performance.now();
  /** The batch's attempts, by item (a transaction run again overwrites them); one attempt-log row at its end. */
  const logged: LoggedAttempt[] = [];
  const recording = p.fn.recordAttempts !== false;
  for (const raw of raws) {
    const decoded = decodeEvent({ key: raw.key, value: raw.value, headers: raw.headers ?? {} }, p.fn.events);
    if (!decoded.ok) break;
    const where = { topic: source.topic, partition: source.partition, offset: raw.offset };
    const message = decoded.message;
    const meta = eventInvocationMeta(p.fn, message, { attempt: 1, source: sourceOf(where, raw) });
    const index = items.length;
    items.push({
      message,
      meta,
      ...(recording
        ? {
            done: (outcome) => {
              const now = performance.now();
              logged[index] = loggedAttemptOf({ message, meta, outcome, startedAt, durationMs: now - last });
              last = now;
            },
          }
        : {}),
    });
    decodedRaws.push(raw);
  }
  const alone = async (counted?: AttemptRecord): Promise<BatchStep> => ({
    kind: 'single',
    outcome: await processMessage(
      p,
      source,
      raws[0]!,
      control,
      counted === undefined ? { cold } : { counted },
    ),
  });
  if (items.length <= 1) return alone();
  /** Attempt keys counted for this batch (cold only): taken back unless it commits. */
  let begun: string[] = [];
  if (cold) {
    const ids = items.map((item, index) => attemptsKey(item.message.id, decodedRaws[index]!));
    let records: Map<string, AttemptRecord>;
    try {
      records = await p.attempts.begin(ids);
    } catch (error) {
      return { kind: 'single', outcome: pausedOrThrow(error) };
    }
    const earlier = ids.findIndex((id) => (records.get(id)?.attempts ?? 1) > 1);
    const kept = earlier === -1 ? ids.length : Math.max(1, earlier);
    if (kept < ids.length) {
      const keep = new Set(ids.slice(0, kept));
      await p.attempts.refund([...new Set(ids.slice(kept))].filter((id) => !keep.has(id)));
    }
    if (kept === 1) return alone(records.get(ids[0]!) ?? { attempts: 1, lastError: null });
    items.length = kept;
    decodedRaws.length = kept;
    begun = [...new Set(ids.slice(0, kept))];
  }
  const between = () =>
    control.heartbeat().catch((error: unknown) => {
      throw new HeartbeatFailed('heartbeat failed', { cause: error });
    });
  // Each item is its own consumer span, continuing its own message's trace (one order, one trace).
  const spans = items.map((item, index) => {
    if (p.env.tracer === undefined) return undefined;
    const raw = decodedRaws[index]!;
    const where = { topic: source.topic, partition: source.partition, offset: raw.offset };
    const child = startChild(p.env.tracer, `process ${source.topic}`, {
      kind: SpanKind.CONSUMER,
      parent: extractContext(raw.headers ?? {}),
      attributes: {
        ...spanAttributes(p, where, raw, item.message, 1),
        'messaging.batch.message_count': items.length,
      },
    });
    item.trace = child.context;
    return child.span;
  });
  const endSpans = (error?: unknown) => {
    for (const span of spans) {
      if (span === undefined) continue;
      if (error !== undefined) failed(span, error);
      span.end();
    }
  };
  try {
    const attemptLog = () => attemptsRecords(p.fn, logged.slice(0, items.length));
    const outcomes = await invokeEventBatch(p.fn, items, p.env, {
      between,
      ...(recording ? { attemptLog } : {}),
    }).catch((error: unknown) => {
      endSpans(error);
      throw error;
    });
    endSpans();
    const handled = outcomes.filter((outcome) => outcome === 'handled').length;
    for (const item of items) observeAge(p, source.topic, item.message);
    return { kind: 'batch', done: items.length, handled };
  } catch (error) {
    // Rolled back: not this batch's attempt of any message (a failing one is counted again where it is handled).
    await p.attempts.refund(begun);
    if (error instanceof HeartbeatFailed) throw error.cause;
    const cause = error instanceof BatchItemError ? error.cause : error;
    const down = infrastructureFailure(cause);
    if (down !== undefined) {
      p.log.warn(
        { ...source, size: items.length, dependency: down.dependency, err: cause },
        'dependency unavailable: pausing the partition (no attempt spent)',
      );
      return { kind: 'single', outcome: { paused: down } };
    }
    if (error instanceof BatchItemError) {
      if (error.index > 0) {
        p.log.debug(
          { ...source, size: items.length, failedAt: error.index },
          'batch rolled back; retrying the messages before the failure',
        );
        return {
          kind: 'retry-smaller',
          size: error.index,
          failure: { offset: raws[error.index]!.offset, error: error.cause },
        };
      }
      return {
        kind: 'single',
        outcome: await processMessage(p, source, raws[0]!, control, { firstFailure: { error: error.cause } }),
      };
    }
    p.log.warn(
      { ...source, size: items.length, err: error },
      'batch transaction failed; handling messages one at a time',
    );
    return alone();
  }
}
