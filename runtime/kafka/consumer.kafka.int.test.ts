/**
 * The Kafka binding against a real Kafka broker (Confluent's image, KRaft mode) started by testcontainers:
 * one event function through `startEventConsumer` over a PGlite store; a good event is handled once and a
 * poison message goes to the dead-letter topic with its error headers. The same scenario runs on the
 * embedded broker in `consumer.test.ts`; this suite shows the binding does not depend on that broker.
 * Runs only when `test/setup/containers.global.ts` found a container runtime.
 */
import { randomUUID } from 'node:crypto';
import { KafkaContainer, type StartedKafkaContainer } from '@testcontainers/kafka';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { skipLine } from '../../test/setup/container-runtime.ts';
import { encodeEvent } from '../codec.ts';
import { defineEventFunction, type Ports } from '../define.ts';
import type { RuntimeEnv } from '../invoke.ts';
import { createTestStore, type EffectsRepo, type TestStore } from '../outbox/test-store.ts';
import { storeToken } from '../store.ts';
import { createKafkaClient, sharedProducer } from './client.ts';
import { type EventConsumer, startEventConsumer } from './consumer.ts';
import type { AnyEventFunction } from './process-message.ts';
import { pingedEvent, uniqueTopic } from './test-events.ts';
import { FAST_CONSUMER, headerText, readTopic, type TopicReader, testLogger, waitFor } from './test-kit.ts';

const IMAGE = 'confluentinc/cp-kafka:7.6.1';
const runtime = inject('containerRuntime');
if (!runtime.available) console.log(skipLine('Kafka consumer suite', runtime));

describe.skipIf(!runtime.available)('event consumer on a real Kafka (testcontainers)', () => {
  let container: StartedKafkaContainer | undefined;
  let kafka: Kafka;
  let producer: Producer | undefined;
  let store: TestStore | undefined;
  let consumer: EventConsumer | undefined;
  let dlq: TopicReader | undefined;
  const logger = testLogger();

  beforeAll(async () => {
    [container, store] = await Promise.all([
      new KafkaContainer(IMAGE).withKraft().start(),
      createTestStore('test'),
    ]);
    kafka = createKafkaClient({
      brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
      clientId: `int-${randomUUID().slice(0, 8)}`,
      logger,
      connectionTimeoutMs: 10_000,
    });
    producer = sharedProducer(kafka);
    await producer.connect();
  }, 240_000);
  afterAll(async () => {
    await dlq?.stop().catch(() => {});
    await consumer?.stop().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await store?.close();
    await container?.stop();
  });

  it('handles a good event once and dead-letters a poison message with its error headers', async () => {
    const topic = uniqueTopic('in');
    const Pinged = pingedEvent(topic);
    const handled: number[] = [];
    const fn: AnyEventFunction = defineEventFunction({
      id: `fn-${randomUUID().slice(0, 8)}`,
      events: [Pinged],
      groupId: `group-${randomUUID().slice(0, 8)}`,
      store: storeToken<EffectsRepo>('test'),
      retries: { attempts: 2, initialBackoffMs: 20, maxBackoffMs: 100 },
      handler: async ({ event, deps }) => {
        handled.push(event.data.n);
        await deps.db.addEffect(event.id, `n=${event.data.n}`);
      },
    });
    const env: RuntimeEnv = { stores: { test: store! }, ports: {} as Ports, clock: () => new Date(), logger };
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    consumer = await startEventConsumer(fn, env, kafka, producer!, FAST_CONSUMER);
    await consumer.ready;
    dlq = await readTopic(kafka, fn.deadLetterTopic);

    const good = encodeEvent(Pinged.create({ orderId: 'o-1', n: 1 }));
    await producer!.send({
      topic,
      acks: -1,
      messages: [
        { key: 'o-1', value: '{"id": "not json' },
        { key: good.key, value: good.value, headers: good.headers },
      ],
    });

    await waitFor(() => dlq!.messages.length === 1, { timeoutMs: 60_000, what: 'one dead-lettered message' });
    await waitFor(async () => (await store!.repo.effects()).length === 1, {
      timeoutMs: 60_000,
      what: 'one effect',
    });
    expect(handled).toEqual([1]);
    expect((await store!.repo.effects()).map((e) => e.note)).toEqual(['n=1']);
    const dead = dlq!.messages[0]!;
    expect(String(dead.value)).toBe('{"id": "not json');
    expect(headerText(dead, 'dlq-kind')).toBe('invalid-message');
    expect(headerText(dead, 'dlq-original-topic')).toBe(topic);
    expect(headerText(dead, 'dlq-original-offset')).toBe('0');
    expect(headerText(dead, 'dlq-function')).toBe(fn.id);
  });
});
