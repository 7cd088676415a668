import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueTopic } from './test-events.ts';
import { startTestKafka, type TestKafka } from './test-kit.ts';
import { ensureTopics } from './topics.ts';

let k: TestKafka;
beforeAll(async () => {
  k = await startTestKafka();
});
afterAll(async () => {
  await k?.stop();
});

async function partitionCount(topic: string): Promise<number> {
  const admin = k.kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

describe('ensureTopics', () => {
  it('creates missing topics with their partition counts and leaves existing ones alone', async () => {
    const [a, b] = [uniqueTopic('a'), uniqueTopic('b')];
    expect(await ensureTopics(k.kafka, [{ topic: a, partitions: 3 }])).toEqual([a]);
    expect(
      await ensureTopics(k.kafka, [
        { topic: a, partitions: 6 },
        { topic: b, partitions: 2 },
      ]),
    ).toEqual([b]);
    expect(await partitionCount(a)).toBe(3);
    expect(await partitionCount(b)).toBe(2);
    expect(await ensureTopics(k.kafka, [{ topic: b, partitions: 2 }])).toEqual([]);
  });

  it('survives replicas racing to create the same topics', async () => {
    const topic = uniqueTopic('race');
    await Promise.all([1, 2, 3].map(() => ensureTopics(k.kafka, [{ topic, partitions: 4 }])));
    expect(await partitionCount(topic)).toBe(4);
  });
});
