import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from './index.ts';
import { fastConsumer, kafkaClient, memoryLogger, waitFor } from './test-support.ts';

const TOPIC = 'durable';
const GROUP = 'resume';
const dataDir = mkdtempSync(join(tmpdir(), 'kb-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function produce(broker: RunningBroker, from: number, count: number): Promise<void> {
  const producer = kafkaClient(broker.brokers).producer();
  await producer.connect();
  const messages = Array.from({ length: count }, (_, i) => ({
    key: `k${(from + i) % 7}`,
    value: `m${from + i}`,
  }));
  await producer.send({ topic: TOPIC, acks: -1, messages });
  await producer.disconnect();
}

/**
 * Runs a group member until it has seen the sentinel message on every partition (so anything
 * redelivered before it has arrived too), then stops it; returns the other values it received.
 */
async function consumeUntilSentinels(broker: RunningBroker, partitions: number): Promise<string[]> {
  const kafka = kafkaClient(broker.brokers);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: TOPIC,
    messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: 'sentinel' })),
  });
  await producer.disconnect();
  const values: string[] = [];
  let sentinels = 0;
  const consumer = kafka.consumer({ groupId: GROUP, ...fastConsumer });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value!.toString();
      if (value === 'sentinel') sentinels++;
      else values.push(value);
    },
  });
  await waitFor(() => sentinels >= partitions, { what: 'sentinels', timeoutMs: 30_000 });
  await consumer.disconnect(); // commits what it processed
  return values;
}

describe('restart with a data directory', () => {
  it('keeps messages and committed offsets: nothing lost, nothing redelivered', async () => {
    const first = await startBroker({ dataDir, logger: memoryLogger() });
    const admin = kafkaClient(first.brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }] });
    await admin.disconnect();
    await produce(first, 0, 100);
    const before = await consumeUntilSentinels(first, 2);
    expect(before.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`).sort());
    await produce(first, 100, 50); // produced, never consumed before the restart
    await first.stop();

    const second = await startBroker({ dataDir, logger: memoryLogger() });
    try {
      const admin2 = kafkaClient(second.brokers).admin();
      await admin2.connect();
      expect(await admin2.listTopics()).toEqual([TOPIC]);
      const high = (await admin2.fetchTopicOffsets(TOPIC)).reduce((sum, p) => sum + Number(p.high), 0);
      expect(high).toBe(100 + 2 + 50);
      await admin2.disconnect();
      const after = await consumeUntilSentinels(second, 2);
      expect(after.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${100 + i}`).sort());
    } finally {
      await second.stop();
    }
  });
});
