/**
 * Outbox records → Kafka, over the shared idempotent producer. The relay depends on the function type
 * only, never on kafkajs. Failures the records themselves cause become a `PublishRejectedError` (which the
 * relay charges to the rows); everything else — the broker down, timeouts, leadership moving — is rethrown
 * as kafkajs raised it (the relay backs off and charges nobody).
 * @module
 */
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { PublishRejectedError } from '../outbox/errors.ts';
import type { NewOutboxRecord } from '../store.ts';
import { ACKS_ALL } from './acks.ts';

/** Publishes records, in order, and resolves once every one is acknowledged by all in-sync replicas. */
export type PublishRecords = (records: readonly NewOutboxRecord[]) => Promise<void>;

export interface KafkaPublisherOptions {
  /**
   * Largest record (key, value and headers plus batch overhead) sent; a larger one is rejected without being
   * sent, like the Java producer's `max.request.size`. Default 1 MiB, Kafka's default `message.max.bytes`;
   * set it to the topics' `max.message.bytes` when that is different.
   */
  maxMessageBytes?: number;
}

/** Kafka's default `message.max.bytes` (1 MiB; the broker adds 12 bytes of slack). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * Kafka error names that are the records' fault, whatever the state of the cluster:
 * - `MESSAGE_TOO_LARGE`, `RECORD_LIST_TOO_LARGE`: a batch over the topic's size limits (the relay retries the
 *   rows one by one, so a batch that is only too large together charges nobody);
 * - `INVALID_RECORD`, `CORRUPT_MESSAGE`: the broker's validation refused a record (kafkajs retries a corrupt
 *   message first, so what reaches us is not a flipped bit on the wire);
 * - `INVALID_TOPIC_EXCEPTION`: the row names a topic that cannot exist;
 * - `UNKNOWN_TOPIC_OR_PARTITION` once kafkajs' retries are spent: topics are created before any relay runs
 *   (`ensureTopics` at start-up, or the `topics` job every service waits for), so a topic still missing is
 *   one nobody declared. A row parked for it is republished once the topic exists.
 * Not here, so never charged: connection errors, request timeouts, `NOT_LEADER_FOR_PARTITION`,
 * `LEADER_NOT_AVAILABLE`, `NOT_ENOUGH_REPLICAS*`, coordinator errors, and authorization failures (a
 * deployment's misconfiguration, to be fixed there, not a reason to park every row of a topic).
 */
export const REJECTED_ERROR_TYPES: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'UNKNOWN_TOPIC_OR_PARTITION',
]);

/**
 * A {@link PublishRecords} over a connected producer: one `sendBatch` request per call, acks -1.
 * Records are grouped by topic keeping their order, so each partition receives its records in id order
 * (and with one request in flight the idempotent producer keeps that order through retries).
 * @throws PublishRejectedError when the records are at fault (see {@link REJECTED_ERROR_TYPES}); other
 * errors as kafkajs raised them.
 * @example const publish = kafkaPublisher(sharedProducer(kafka));
 */
export function kafkaPublisher(producer: Producer, options: KafkaPublisherOptions = {}): PublishRecords {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return async (records) => {
    if (records.length === 0) return;
    const oversized = records.filter((record) => recordBytes(record) > maxMessageBytes);
    if (oversized.length > 0)
      throw new PublishRejectedError(
        `MESSAGE_TOO_LARGE: ${oversized.length} record(s) over ${maxMessageBytes} bytes, not sent`,
        { records: oversized, reason: 'MESSAGE_TOO_LARGE' },
      );
    try {
      await producer.sendBatch({ acks: ACKS_ALL, topicMessages: groupByTopic(records) });
    } catch (error) {
      const reason = rejectionReason(error);
      if (reason === undefined) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new PublishRejectedError(`${reason}: ${message}`, { records, reason, cause: error });
    }
  };
}

/**
 * The Kafka error name when `error` (or an error it wraps, e.g. in kafkajs' `KafkaJSNumberOfRetriesExceeded`
 * or `KafkaJSNonRetriableError`) is a protocol error in {@link REJECTED_ERROR_TYPES}; otherwise undefined.
 */
export function rejectionReason(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current instanceof Error; depth++) {
    const { name, type } = current as Error & { type?: unknown };
    if (name === 'KafkaJSProtocolError' && typeof type === 'string' && REJECTED_ERROR_TYPES.has(type))
      return type;
    current = current.cause;
  }
  return undefined;
}

/**
 * An upper estimate of a record's size in a record batch of its own: batch header (61 bytes), record
 * overhead (≤ 21 bytes of varints and attributes), key, value, and each header's name and value with
 * their varints. Counted in UTF-8 bytes.
 */
export function recordBytes(record: NewOutboxRecord): number {
  let bytes = 61 + 21 + Buffer.byteLength(record.key) + Buffer.byteLength(record.value);
  for (const [name, value] of Object.entries(record.headers))
    bytes += 10 + Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

/** Groups records by topic, first-seen topic order, record order kept within a topic. */
export function groupByTopic(records: readonly NewOutboxRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    let messages = byTopic.get(record.topic);
    if (messages === undefined) {
      messages = [];
      byTopic.set(record.topic, messages);
    }
    messages.push({ key: record.key, value: record.value, headers: { ...record.headers } });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
