/**
 * Test support for the Kafka binding: the embedded broker with a real kafkajs client, condition waits and
 * a topic reader. Used by `*.test.ts` only.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { type Logger, pino } from 'pino';
import { type RunningBroker, silentLogger, startBroker } from '../../local/kafka-broker/index.ts';
import { createKafkaClient, sharedProducer } from './client.ts';

/** Lowered kafkajs timings so tests join, fetch and notice failures fast. */
export const FAST_CONSUMER = {
  maxWaitTimeInMs: 100,
  heartbeatIntervalMs: 300,
  sessionTimeoutMs: 6_000,
} as const;

/** A test logger: silent unless `LOG_LEVEL` is set. */
export function testLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

/** An embedded broker, a kafkajs client on it and its connected shared producer. */
export interface TestKafka {
  broker: RunningBroker;
  kafka: Kafka;
  producer: Producer;
  logger: Logger;
  stop(): Promise<void>;
}

/** Starts the embedded broker on a free port and connects the shared producer. */
export async function startTestKafka(options: { defaultPartitions?: number } = {}): Promise<TestKafka> {
  const broker = await startBroker({
    port: 0,
    defaultPartitions: options.defaultPartitions ?? 1,
    logger: silentLogger,
  });
  const logger = testLogger();
  const kafka = createKafkaClient({
    brokers: broker.brokers,
    clientId: `test-${randomUUID().slice(0, 8)}`,
    logger,
  });
  const producer = sharedProducer(kafka);
  await producer.connect();
  return {
    broker,
    kafka,
    producer,
    logger,
    async stop() {
      await producer.disconnect().catch(() => {});
      await broker.stop();
    },
  };
}

/**
 * Polls `probe` until it returns a truthy value and returns it; fails after `timeoutMs` naming `what`.
 * @example const rows = await waitFor(() => dlq.messages.length === 3 && dlq.messages, { what: 'three DLQ messages' });
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  {
    timeoutMs = 15_000,
    intervalMs = 20,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A received message with its partition. */
export type ReadMessage = KafkaMessage & { partition: number };

/** Everything on `topic`, from the beginning, in a fresh throw-away group. */
export interface TopicReader {
  readonly messages: ReadMessage[];
  stop(): Promise<void>;
}

/** Starts reading `topic` from the beginning; resolves once the reader has joined its group. */
export async function readTopic(kafka: Kafka, topic: string): Promise<TopicReader> {
  const consumer = kafka.consumer({
    groupId: `reader-${randomUUID()}`,
    maxWaitTimeInMs: FAST_CONSUMER.maxWaitTimeInMs,
    heartbeatInterval: FAST_CONSUMER.heartbeatIntervalMs,
    sessionTimeout: FAST_CONSUMER.sessionTimeoutMs,
  });
  const messages: ReadMessage[] = [];
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      messages.push({ ...message, partition });
    },
  });
  await joined;
  return { messages, stop: () => consumer.disconnect() };
}

/** A header value as a string (kafkajs hands over Buffers). */
export function headerText(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const one = Array.isArray(value) ? value.at(-1) : value;
  return one === undefined ? undefined : one.toString();
}
