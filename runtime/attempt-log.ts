/**
 * The attempt log: every attempt of every event function (function, group, attempt number, outcome, duration,
 * error) is recorded in the function's own service as an outbox row of `ConsumerAttemptRecorded` on the
 * `consumer-attempts` topic. A handled or duplicate attempt is written in the handler's transaction (it
 * commits with the effect) — a batch's attempts as **one** row (version 2 carries a list), so the log costs one
 * outbox row, one Kafka record and one fold per batch, not per event; a failed attempt in a transaction of its own
 * after the rollback, so the rollback cannot erase it. The relay publishes them like any event, keyed by the
 * (first) consumed message's key (the order id), so a read model in another service (the order timeline,
 * `functions/track-order`) folds them without reading this service's tables. A function that folds the log
 * itself sets `recordAttempts: false`.
 * @module
 */
import { z } from 'zod';
import { encodeEvent } from './codec.ts';
import type { InvocationMeta } from './define.ts';
import { defineEvent, type EventMessage } from './events.ts';
import { derivedUuid } from './ids.ts';
import type { NewOutboxRecord } from './store.ts';

export const ATTEMPT_OUTCOMES = ['handled', 'duplicate', 'retried', 'dead-lettered'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One attempt of one event function on one consumed event: what both versions carry per attempt. */
const attemptFields = {
  /** The consumed event. */
  eventId: z.string(),
  eventType: z.string(),
  /** The consumed message's key (the order id). */
  key: z.string(),
  topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  attempt: z.number().int(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  startedAt: z.string(),
  durationMs: z.number(),
  error: z.string().nullable(),
};

/**
 * Version 1: one attempt per record. No longer written (see {@link ConsumerAttemptsRecorded}); still read, since
 * the topic and outbox tables may hold records written before version 2.
 */
export const ConsumerAttemptRecorded = defineEvent('ConsumerAttemptRecorded', {
  version: 1,
  topic: 'consumer-attempts',
  schema: z.object({ functionId: z.string(), groupId: z.string(), ...attemptFields }),
  key: (data) => data.key,
});

/** One attempt in a version 2 record. */
export type LoggedAttempt = z.infer<typeof loggedAttempt>;
const loggedAttempt = z.object(attemptFields);

/**
 * Version 2: the attempts of one function in one transaction (a consumer batch's, or a single one), in the order
 * they ran; keyed by the first one's key.
 */
export const ConsumerAttemptsRecorded = defineEvent('ConsumerAttemptRecorded', {
  version: 2,
  topic: 'consumer-attempts',
  schema: z.object({
    functionId: z.string(),
    groupId: z.string(),
    attempts: z.array(loggedAttempt).min(1),
  }),
  key: (data) => data.attempts[0]!.key,
});

export interface AttemptFacts {
  fn: { id: string; groupId: string };
  message: EventMessage;
  meta: InvocationMeta;
  outcome: AttemptOutcome;
  startedAt: Date;
  durationMs: number;
  error?: string | null;
}

/**
 * The key the attempt is logged under: the consumed message's key (the order id), unless it is no key an outbox
 * row can carry (over 255 characters, or with a NUL: e.g. a poison message's) — then a UUID derived from it, so
 * logging an attempt never fails because of the message it logs.
 */
function logKey(key: string): string {
  return key.length <= 255 && !key.includes('\u0000') ? key : derivedUuid(`attempt-log-key:${key}`);
}

/** One attempt as the log carries it. */
export function loggedAttemptOf(facts: Omit<AttemptFacts, 'fn'>): LoggedAttempt {
  const { message, meta } = facts;
  return {
    eventId: message.id,
    eventType: message.type,
    key: logKey(message.key),
    topic: meta.source?.topic ?? message.topic,
    partition: meta.source?.partition ?? -1,
    offset: meta.source?.offset ?? '-1',
    attempt: meta.attempt,
    outcome: facts.outcome,
    startedAt: facts.startedAt.toISOString(),
    durationMs: Math.round(facts.durationMs * 10) / 10,
    error: facts.error ?? null,
  };
}

/**
 * The outbox row recording `attempts` of `fn` (at least one). A single attempt's record continues its event's
 * correlation; a batch's spans several orders and carries none.
 */
export function attemptsRecord(
  fn: { id: string; groupId: string },
  attempts: readonly LoggedAttempt[],
  single?: { correlationId?: string | undefined; causationId: string },
): NewOutboxRecord {
  return encodeEvent(
    ConsumerAttemptsRecorded.create(
      { functionId: fn.id, groupId: fn.groupId, attempts: [...attempts] },
      attempts.length === 1 && single !== undefined ? single : {},
    ),
  );
}

/** Most attempts one record carries: a batch's record stays far below Kafka's 1 MB default message limit. */
export const MAX_ATTEMPTS_PER_RECORD = 100;

/** The outbox rows recording a batch's `attempts`: one per {@link MAX_ATTEMPTS_PER_RECORD}, none for none. */
export function attemptsRecords(
  fn: { id: string; groupId: string },
  attempts: readonly LoggedAttempt[],
): NewOutboxRecord[] {
  const records: NewOutboxRecord[] = [];
  for (let i = 0; i < attempts.length; i += MAX_ATTEMPTS_PER_RECORD)
    records.push(attemptsRecord(fn, attempts.slice(i, i + MAX_ATTEMPTS_PER_RECORD)));
  return records;
}

/** The outbox row recording one attempt. */
export function attemptRecord(facts: AttemptFacts): NewOutboxRecord {
  return attemptsRecord(facts.fn, [loggedAttemptOf(facts)], {
    correlationId: facts.meta.correlationId,
    causationId: facts.message.id,
  });
}
