/**
 * The publisher's failure classification against the embedded broker with the real kafkajs producer: what the
 * broker (or the publisher's own size check) rejects because of the records is a `PublishRejectedError`
 * naming them; a broker that is down is not (the relay backs off and charges no row for it).
 */
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  type Producer,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewOutboxRecord } from '../store.ts';
import { kafkaPublisher, REJECTED_ERROR_TYPES, recordBytes, rejectionReason } from './publisher.ts';
import { pingRecords, uniqueTopic } from './test-events.ts';
import { readTopic, startTestKafka, type TestKafka, waitFor } from './test-kit.ts';
import { quickFailingProducer } from './test-producer.ts';
import { ensureTopics } from './topics.ts';

let k: TestKafka;
let producer: Producer;
let topic: string;

beforeAll(async () => {
  k = await startTestKafka();
  producer = quickFailingProducer(k.broker.brokers);
  await producer.connect();
  topic = uniqueTopic();
  await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
});
afterAll(async () => {
  await producer?.disconnect().catch(() => {});
  await k?.stop();
});

const failure = async (publish: Promise<void>): Promise<Error> => {
  try {
    await publish;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the publish to fail');
};

const sized = (bytes: number, key = 'o-big'): NewOutboxRecord => ({
  ...pingRecords(topic, 1, key)[0]!,
  value: 'x'.repeat(bytes),
});

describe('kafkaPublisher: failures attributable to the records', () => {
  it('a topic that does not exist (topics are created at start-up) is rejected, naming every record sent', async () => {
    const records = [...pingRecords(topic, 1, 'o-1'), ...pingRecords(uniqueTopic('missing'), 1, 'o-2')];
    const error = await failure(kafkaPublisher(producer)(records));
    expect(error).toMatchObject({ name: 'PublishRejectedError', reason: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect((error as Error & { records: unknown }).records).toEqual(records);
  });

  it('an invalid topic name is rejected', async () => {
    const error = await failure(kafkaPublisher(producer)(pingRecords('not a valid topic!', 1)));
    expect(error).toMatchObject({ name: 'PublishRejectedError', reason: 'INVALID_TOPIC_EXCEPTION' });
  });

  it('a record over maxMessageBytes is rejected before anything is sent, naming only that record', async () => {
    const reader = await readTopic(k.kafka, topic);
    const [small, big] = [pingRecords(topic, 1, 'o-small')[0]!, sized(70_000)];
    const error = await failure(kafkaPublisher(producer, { maxMessageBytes: 64 * 1024 })([small, big]));
    expect(error).toMatchObject({ name: 'PublishRejectedError', reason: 'MESSAGE_TOO_LARGE' });
    expect((error as Error & { records: unknown }).records).toEqual([big]);
    await kafkaPublisher(producer)(pingRecords(topic, 1, 'o-marker'));
    await waitFor(() => reader.messages.length === 1, { what: 'the marker message' });
    expect(String(reader.messages[0]?.key)).toBe('o-marker'); // the small record was not sent either
    await reader.stop();
  });

  it('by default a record over 1 MiB (Kafka message.max.bytes) is rejected as too large, not sent to reset the connection', async () => {
    // The embedded broker closes a connection whose frame exceeds 8 MiB, which kafkajs reports as a
    // (retriable) connection error; the publisher's own check keeps that from looking like a broker outage.
    const error = await failure(kafkaPublisher(producer)([sized(9 * 1024 * 1024)]));
    expect(error).toMatchObject({ name: 'PublishRejectedError', reason: 'MESSAGE_TOO_LARGE' });
  });
});

describe('kafkaPublisher: failures of the infrastructure', () => {
  it('a broker that is down is not a rejection of the records', async () => {
    const down = await startTestKafka();
    const stranded = quickFailingProducer(down.broker.brokers);
    await stranded.connect();
    await ensureTopics(down.kafka, [{ topic, partitions: 1 }]);
    await down.broker.stop();
    const error = await failure(kafkaPublisher(stranded)(pingRecords(topic, 2)));
    expect(error.name).not.toBe('PublishRejectedError');
    expect(error.name).toMatch(/^KafkaJS/);
    await stranded.disconnect().catch(() => {});
    await down.stop();
  });
});

/** A protocol error as kafkajs builds it from a broker's error code. */
const protocolError = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ message: `broker says ${type}`, type, code: 0, retriable } as unknown as Error);
/** kafkajs' retrier wraps the last error like this (src/retry/index.js). */
const wrapped = (error: Error) => [
  error,
  new (KafkaJSNonRetriableError as unknown as new (e: Error, m: { cause: Error }) => Error)(error, {
    cause: error,
  }),
  new KafkaJSNumberOfRetriesExceeded(error, { retryCount: 5, retryTime: 100, cause: error } as never),
];

describe("rejectionReason: which kafkajs errors are the records' fault", () => {
  it.each([...REJECTED_ERROR_TYPES])('%s is, however kafkajs wraps it', (type) => {
    for (const error of wrapped(protocolError(type, false))) expect(rejectionReason(error)).toBe(type);
  });

  it.each([
    ['NOT_LEADER_FOR_PARTITION', true],
    ['LEADER_NOT_AVAILABLE', true],
    ['REQUEST_TIMED_OUT', true],
    ['NOT_ENOUGH_REPLICAS', true],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', true],
    ['COORDINATOR_NOT_AVAILABLE', true],
    ['NETWORK_EXCEPTION', true],
    ['TOPIC_AUTHORIZATION_FAILED', false],
    ['CLUSTER_AUTHORIZATION_FAILED', false],
  ] as const)('%s is not (infrastructure or configuration)', (type, retriable) => {
    for (const error of wrapped(protocolError(type, retriable)))
      expect(rejectionReason(error)).toBeUndefined();
  });

  it('connection errors and anything that is not a protocol error are not', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', {
      broker: 'b:9092',
    } as never);
    for (const error of wrapped(refused)) expect(rejectionReason(error)).toBeUndefined();
    expect(rejectionReason(new Error('MESSAGE_TOO_LARGE'))).toBeUndefined();
    expect(rejectionReason('MESSAGE_TOO_LARGE')).toBeUndefined();
  });

  it('estimates a record from its key, value and headers in UTF-8 bytes, plus batch overhead', () => {
    const record = { eventId: 'e', topic: 't', key: 'k', value: 'é'.repeat(10), headers: { h: 'v' } };
    expect(recordBytes(record)).toBe(61 + 21 + 1 + 20 + 10 + 1 + 1);
  });
});
