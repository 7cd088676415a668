/**
 * Outbox records → Kafka, over the shared idempotent producer. The relay depends on the function type
 * only, never on kafkajs.
 * @module
 */
import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { NewOutboxRecord } from '../store.ts';
import { ACKS_ALL } from './client.ts';

/** Publishes records, in order, and resolves once every one is acknowledged by all in-sync replicas. */
export type PublishRecords = (records: readonly NewOutboxRecord[]) => Promise<void>;

/**
 * A {@link PublishRecords} over a connected producer: one `sendBatch` request per call, acks -1.
 * Records are grouped by topic keeping their order, so each partition receives its records in id order
 * (and with one request in flight the idempotent producer keeps that order through retries).
 * @example const publish = kafkaPublisher(sharedProducer(kafka));
 */
export function kafkaPublisher(producer: Producer): PublishRecords {
  return async (records) => {
    if (records.length === 0) return;
    await producer.sendBatch({ acks: ACKS_ALL, topicMessages: groupByTopic(records) });
  };
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
