/**
 * The dead-letter message: the original key, value and headers, plus headers that say why, where from and when.
 * @module
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** Header names added to a dead-lettered message. */
export const DeadLetterHeaders = {
  /** Why, for a human: the decode failure or the handler error's message (truncated). */
  reason: 'dlq-reason',
  /** Error name: `DecodeError` for a message that could not be decoded, else the thrown error's `name`. */
  error: 'dlq-error',
  /** `invalid-message` | `non-retriable` | `retries-exhausted`. */
  kind: 'dlq-kind',
  function: 'dlq-function',
  /** Handler attempts made (0 when the message could not be decoded). */
  attempts: 'dlq-attempts',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  /** ISO-8601. */
  failedAt: 'dlq-failed-at',
} as const;

/**
 * Headers of a redriven copy (`runtime/ops/dead-letters.ts`), on the function's redrive topic. The copy is the
 * mark: a dead letter is "redriven" when a record on the redrive topic names its partition and offset.
 */
export const RedriveHeaders = {
  /** How many times this event has been redriven by this function's tooling (1 for the first). */
  count: 'redrive-count',
  dlqPartition: 'redrive-dlq-partition',
  dlqOffset: 'redrive-dlq-offset',
  /** ISO-8601. */
  at: 'redrive-at',
  /** Where the event was first consumed from: kept across redrives (a copy that fails again is dead-lettered from the redrive topic). */
  originalTopic: 'redrive-original-topic',
  originalPartition: 'redrive-original-partition',
  originalOffset: 'redrive-original-offset',
} as const;

export const REDRIVE_COUNT_HEADER = RedriveHeaders.count;

export type DeadLetterKind = 'invalid-message' | 'non-retriable' | 'retries-exhausted';

/** Everything the dead-letter headers say. */
export interface DeadLetterInfo {
  kind: DeadLetterKind;
  reason: string;
  errorName: string;
  functionId: string;
  attempts: number;
  topic: string;
  partition: number;
  offset: string;
  failedAt: Date;
}

const MAX_REASON_CHARS = 1_000;

/** Builds the dead-letter message for `original`. `dlq-*` headers it already carries (a replay) are replaced. */
export function deadLetterMessage(original: KafkaMessage, info: DeadLetterInfo): Message {
  const headers: IHeaders = { ...original.headers };
  const reason =
    info.reason.length > MAX_REASON_CHARS ? `${info.reason.slice(0, MAX_REASON_CHARS)}…` : info.reason;
  Object.assign(headers, {
    [DeadLetterHeaders.reason]: reason,
    [DeadLetterHeaders.error]: info.errorName,
    [DeadLetterHeaders.kind]: info.kind,
    [DeadLetterHeaders.function]: info.functionId,
    [DeadLetterHeaders.attempts]: String(info.attempts),
    [DeadLetterHeaders.originalTopic]: info.topic,
    [DeadLetterHeaders.originalPartition]: String(info.partition),
    [DeadLetterHeaders.originalOffset]: info.offset,
    [DeadLetterHeaders.failedAt]: info.failedAt.toISOString(),
  });
  return { key: original.key, value: original.value, headers };
}

/** The error's name and message, whatever was thrown. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}
