/**
 * One Kafka message through one event function: decode, invoke with retries, or dead-letter.
 * Never throws except a heartbeat error (the group is rebalancing), which the consumer must see.
 * @module
 */
import type { KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { decodeEvent } from '../codec.ts';
import type { EventFunction } from '../define.ts';
import { isRetriable } from '../errors.ts';
import {
  type BatchItem,
  BatchItemError,
  eventInvocationMeta,
  invokeEventBatch,
  invokeEventFunction,
  type RuntimeEnv,
} from '../invoke.ts';
import { ACKS_ALL } from './client.ts';
import { type DeadLetterInfo, deadLetterMessage, describeError } from './dead-letter.ts';
import { retryDelayMs, type WaitControl, waitWithHeartbeat } from './retry.ts';

/** Any event function: handler parameters are contravariant, so only `any` accepts every definition. */
// biome-ignore lint/suspicious/noExplicitAny: see above; the same alias as `AnyFunction` in define.ts
export type AnyEventFunction = EventFunction<any, any>;

/** What processing a message needs; built once per consumer. */
export interface MessageProcessor {
  fn: AnyEventFunction;
  env: RuntimeEnv;
  producer: Producer;
  log: Logger;
  clock: () => Date;
  random: () => number;
}

/**
 * - `handled` / `duplicate` / `dead-lettered`: done, the offset may be committed;
 * - `abandoned`: the consumer is stopping mid-retry, do not commit (redelivered to whoever gets the partition);
 * - `dead-letter-failed`: could not publish to the dead-letter topic, do not commit (redelivered, nothing lost).
 */
export type MessageOutcome = 'handled' | 'duplicate' | 'dead-lettered' | 'abandoned' | 'dead-letter-failed';

/** Where a message came from. */
export interface MessageSource {
  topic: string;
  partition: number;
}

/** Processes one message to an outcome; see {@link MessageOutcome}. */
export async function processMessage(
  p: MessageProcessor,
  source: MessageSource,
  raw: KafkaMessage,
  control: WaitControl,
  /** Attempt 1 already ran (in a batch) and failed with this error: go on from there. */
  firstFailure?: { error: unknown },
): Promise<MessageOutcome> {
  const where = { topic: source.topic, partition: source.partition, offset: raw.offset };
  const decoded = decodeEvent({ key: raw.key, value: raw.value, headers: raw.headers ?? {} }, p.fn.events);
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
  const { attempts } = p.fn.retryPolicy;
  for (let attempt = 1; ; attempt++) {
    const meta = eventInvocationMeta(p.fn, message, { attempt, source: where });
    try {
      if (attempt === 1 && firstFailure !== undefined) throw firstFailure.error;
      return await invokeEventFunction(p.fn, message, p.env, meta);
    } catch (error) {
      const { name, message: text } = describeError(error);
      const log = { ...where, eventId: message.id, eventType: message.type, attempt, err: error };
      if (!isRetriable(error) || attempt >= attempts) {
        const kind = isRetriable(error) ? 'retries-exhausted' : 'non-retriable';
        p.log.error({ ...log, kind }, 'event handler failed: dead-lettering');
        return deadLetter(p, raw, where, control, { kind, reason: text, errorName: name, attempts: attempt });
      }
      const delayMs = retryDelayMs(p.fn.retryPolicy, attempt, error, p.random);
      p.log.warn({ ...log, delayMs }, 'event handler failed: retrying');
      if (!(await waitWithHeartbeat(delayMs, control))) {
        p.log.info(log, 'consumer stopping: retry abandoned, message left uncommitted');
        return 'abandoned';
      }
    }
  }
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
  | { kind: 'batch'; done: number }
  | { kind: 'single'; outcome: MessageOutcome }
  | { kind: 'retry-smaller'; size: number; failure: { offset: string; error: unknown } };

/**
 * Handles the decodable messages at the front of `raws` (up to the first one that does not decode) in one
 * transaction via `invokeEventBatch`. When that is not possible or fails, it falls back so that the
 * per-message guarantees hold:
 * - the first message does not decode, or the batch is a single message → that message alone, as always;
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
): Promise<BatchStep> {
  const items: BatchItem[] = [];
  for (const raw of raws) {
    const decoded = decodeEvent({ key: raw.key, value: raw.value, headers: raw.headers ?? {} }, p.fn.events);
    if (!decoded.ok) break;
    const where = { topic: source.topic, partition: source.partition, offset: raw.offset };
    items.push({
      message: decoded.message,
      meta: eventInvocationMeta(p.fn, decoded.message, { attempt: 1, source: where }),
    });
  }
  if (items.length <= 1)
    return { kind: 'single', outcome: await processMessage(p, source, raws[0]!, control) };
  try {
    await invokeEventBatch(p.fn, items, p.env);
    return { kind: 'batch', done: items.length };
  } catch (error) {
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
        outcome: await processMessage(p, source, raws[0]!, control, { error: error.cause }),
      };
    }
    p.log.warn(
      { ...source, size: items.length, err: error },
      'batch transaction failed; handling messages one at a time',
    );
    return { kind: 'single', outcome: await processMessage(p, source, raws[0]!, control) };
  }
}
