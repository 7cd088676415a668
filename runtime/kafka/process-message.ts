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
import { eventInvocationMeta, invokeEventFunction, type RuntimeEnv } from '../invoke.ts';
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
