import type { Consumer, IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from './index.ts';
import { fastConsumer, kafkaClient, memoryLogger, waitFor } from './test-support.ts';

const TOPIC = 'orders-e2e';
const PARTITIONS = 3;
const MESSAGES = 10_000;
const KEYS = 97;

interface Received {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: IHeaders;
  member: number;
}

describe('produce → consume through a 2-member consumer group', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({ logger: memoryLogger() });
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('delivers 10,000 keyed messages with headers exactly once, in order per partition', async () => {
    const kafka = kafkaClient(broker.brokers);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });

    const received: Received[] = [];
    let sentinelSeen = (): void => {};
    const assignments = new Map<number, number[]>();
    const consumers: Consumer[] = [];
    for (const member of [0, 1]) {
      const consumer = kafka.consumer({ groupId: 'e2e', ...fastConsumer });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        assignments.set(member, e.payload.memberAssignment[TOPIC] ?? []);
      });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (message.value?.toString() === 'sentinel') return sentinelSeen();
          received.push({
            partition,
            offset: Number(message.offset),
            key: message.key!.toString(),
            value: message.value!.toString(),
            headers: message.headers ?? {},
            member,
          });
        },
      });
      consumers.push(consumer);
    }

    // Produce only once both members own partitions, so no rebalance overlaps consumption.
    await waitFor(
      async () => {
        const owned = [...assignments.values()];
        if (owned.length !== 2 || owned.some((p) => p.length === 0)) return false;
        const all = owned.flat().sort();
        if (all.join() !== '0,1,2') return false;
        const { groups } = await admin.describeGroups(['e2e']);
        return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
      },
      { what: 'a stable 2-member group', timeoutMs: 30_000 },
    );

    const producer = kafka.producer();
    await producer.connect();
    for (let start = 0; start < MESSAGES; start += 500) {
      const messages = Array.from({ length: 500 }, (_, j) => {
        const i = start + j;
        return { key: `key-${i % KEYS}`, value: `value-${i}`, headers: { seq: String(i), origin: 'test' } };
      });
      await producer.send({ topic: TOPIC, messages });
    }
    await waitFor(() => received.length >= MESSAGES, { what: `${MESSAGES} messages`, timeoutMs: 60_000 });
    // One sentinel per partition: once all have arrived, any duplicate would have arrived before them.
    let sentinels = 0;
    sentinelSeen = () => sentinels++;
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: PARTITIONS }, (_, partition) => ({
        partition,
        key: 'sentinel',
        value: 'sentinel',
      })),
    });
    await producer.disconnect();
    await waitFor(() => sentinels >= PARTITIONS, { what: 'sentinels' });
    await Promise.all(consumers.map((c) => c.disconnect()));
    await admin.disconnect();

    expect(received.length).toBe(MESSAGES);
    const seen = new Set<number>();
    const partitionOfKey = new Map<string, number>();
    const lastOffset = new Map<number, number>();
    const lastSeqOfKey = new Map<string, number>();
    for (const m of received) {
      const i = Number(m.value.slice('value-'.length));
      expect(seen.has(i)).toBe(false);
      seen.add(i);
      expect(m.key).toBe(`key-${i % KEYS}`);
      expect(m.headers.seq?.toString()).toBe(String(i));
      expect(m.headers.origin?.toString()).toBe('test');
      // Same key, same partition; offsets and per-key sequence strictly increase.
      expect(partitionOfKey.get(m.key) ?? m.partition).toBe(m.partition);
      partitionOfKey.set(m.key, m.partition);
      expect(m.offset).toBeGreaterThan(lastOffset.get(m.partition) ?? -1);
      lastOffset.set(m.partition, m.offset);
      expect(i).toBeGreaterThan(lastSeqOfKey.get(m.key) ?? -1);
      lastSeqOfKey.set(m.key, i);
    }
    expect(new Set(received.map((m) => m.member)).size).toBe(2);
    expect(new Set(received.map((m) => m.partition)).size).toBe(PARTITIONS);
  });
});
