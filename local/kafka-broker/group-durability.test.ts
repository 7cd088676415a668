import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cluster,
  fastGroup,
  runConsumer,
  type Seen,
  startCluster,
  waitFor,
} from './group/kafkajs-test-kit.ts';

/** Starts a broker in a child process and resolves with its address and a SIGKILL switch. */
async function brokerProcess(dataDir: string) {
  const code = `import('./local/kafka-broker/index.ts').then(async (m) => {
    const b = await m.startBroker({ port: 0, dataDir: process.argv[1] });
    process.stdout.write(b.brokers[0] + '\\n');
  });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const exited = once(child, 'exit');
  return {
    broker: chunk.toString().trim(),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const TOPIC = 'invoices';
const GROUP = 'archiver';

const produce = async (cluster: Cluster, values: string[]) => {
  const producer = cluster.kafka('producer').producer();
  await producer.connect();
  await producer.send({ topic: TOPIC, messages: values.map((value, i) => ({ value, partition: i % 2 })) });
  await producer.disconnect();
};

describe('committed offsets with dataDir', () => {
  const dirs: string[] = [];
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('survive a broker restart, so a restarted consumer resumes after them', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-durability-'));
    dirs.push(dataDir);
    cluster = await startCluster({ dataDir });
    const admin = cluster.kafka('admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }] });
    await produce(cluster, ['i0', 'i1', 'i2', 'i3', 'i4', 'i5']);
    const first: Seen[] = [];
    const consumer = await runConsumer(cluster, { name: 'first', groupId: GROUP, topic: TOPIC, seen: first });
    await waitFor(() => first.length >= 6, 'first consumer read everything');
    await consumer.disconnect();
    const before = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    expect(before[0]?.partitions.map((p) => p.offset).sort()).toEqual(['3', '3']);
    await admin.disconnect();
    await cluster.close();

    cluster = await startCluster({ dataDir });
    const admin2 = cluster.kafka('admin').admin();
    cluster.teardown.push(() => admin2.disconnect());
    await admin2.connect();
    expect(await admin2.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })).toEqual(before);
    expect((await admin2.listGroups()).groups.map((g) => g.groupId)).toEqual([GROUP]);
    await produce(cluster, ['j0', 'j1', 'j2']);
    const second: Seen[] = [];
    await runConsumer(cluster, { name: 'second', groupId: GROUP, topic: TOPIC, seen: second });
    await waitFor(() => second.length >= 3, 'second consumer read the new messages');
    expect(second.map((s) => s.value).sort()).toEqual(['j0', 'j1', 'j2']);
  }, 60_000);

  it('survive a SIGKILL of the broker process right after the commit was acknowledged', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-kill-'));
    dirs.push(dataDir);
    const child = await brokerProcess(dataDir);
    try {
      const kafka = new Kafka({ clientId: 'committer', brokers: [child.broker], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }] });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: TOPIC,
        messages: ['x', 'y', 'z'].map((value, i) => ({ value, partition: i % 2 })),
      });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: GROUP, ...fastGroup });
      await consumer.connect();
      await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
      let read = 0;
      await consumer.run({ eachMessage: async () => void read++ });
      await waitFor(() => read >= 3, 'consumed on the child broker');
      await consumer.disconnect(); // commits, then leaves: every commit acknowledged
      await child.kill(); // no graceful shutdown, no final fsync
    } finally {
      await child.kill();
    }
    cluster = await startCluster({ dataDir });
    const admin = cluster.kafka('admin').admin();
    cluster.teardown.push(() => admin.disconnect());
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    expect(offsets[0]?.partitions.sort((a, b) => a.partition - b.partition)).toMatchObject([
      { partition: 0, offset: '2' },
      { partition: 1, offset: '1' },
    ]);
  }, 60_000);
});
