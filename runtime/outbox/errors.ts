/**
 * The one error a publisher throws when a failure is the records' own fault, not the infrastructure's.
 * Transport-free: the Kafka publisher (`runtime/kafka/publisher.ts`) decides what counts; the relay only
 * reads `records` and `reason`.
 * @module
 */
import type { NewOutboxRecord } from '../store.ts';

/**
 * The broker (or the publisher's own checks) refused these records because of what they are — too large,
 * invalid, for a topic that does not exist — so publishing them again unchanged will fail again. The relay
 * charges such failures to the rows (and parks a row that keeps failing); any other publish error is taken
 * as the infrastructure's (broker down, timeouts, leadership changes) and charged to nobody.
 * @example
 * throw new PublishRejectedError('record over 1048576 bytes', { records: [record], reason: 'MESSAGE_TOO_LARGE' });
 */
export class PublishRejectedError extends Error {
  /** The records of the publish call the rejection applies to (all of them when the broker did not say which). */
  readonly records: readonly NewOutboxRecord[];
  /** A short machine-readable reason, e.g. the Kafka error name `MESSAGE_TOO_LARGE`. */
  readonly reason: string;

  constructor(
    message: string,
    options: { records: readonly NewOutboxRecord[]; reason: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PublishRejectedError';
    this.records = options.records;
    this.reason = options.reason;
  }
}
