import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

describe('crash (SIGKILL) with a data directory', () => {
  it('keeps every acknowledged message, acks=1 included', async () => {
    const dir = join(dataDir, 'crash');
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, '--port', '0', '--data-dir', dir, '--quiet'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      const bootstrap = (await waitFor(() => /listening on (\S+)/.exec(stdout), { timeoutMs: 30_000 }))[1]!;
      const producer = kafkaClient([bootstrap]).producer();
      await producer.connect();
      for (let i = 0; i < 10; i++) {
        const messages = Array.from({ length: 10 }, (_, j) => ({ value: `c${i * 10 + j}` }));
        await producer.send({ topic: 'crashy', acks: 1, messages });
      }
      await producer.disconnect();
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const broker = await startBroker({ dataDir: dir, logger: memoryLogger() });
    try {
      const admin = kafkaClient(broker.brokers).admin();
      await admin.connect();
      const [p0] = await admin.fetchTopicOffsets('crashy');
      await admin.disconnect();
      expect(Number(p0?.high)).toBe(100);
    } finally {
      await broker.stop();
    }
  });
});
