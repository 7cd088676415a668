import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from './index.ts';
import { fastConsumer, kafkaClient, memoryLogger, waitFor } from './test-support.ts';

const kcatAvailable = spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;
if (!kcatAvailable) {
  console.log(
    '[kafka-broker] kcat tests skipped: `kcat` is not on PATH (install it with `apt-get install -y kcat`)',
  );
}

/** Runs kcat to completion (or kills it after `timeoutMs`) and returns its output. */
function kcat(
  args: string[],
  input?: string,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

describe.skipIf(!kcatAvailable)('kcat (librdkafka) as a second client', () => {
  let broker: RunningBroker;
  let bootstrap: string;
  beforeAll(async () => {
    broker = await startBroker({ logger: memoryLogger(), defaultPartitions: 3 });
    bootstrap = broker.brokers[0]!;
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('kcat produces keys, headers and gzip batches; kafkajs consumes them', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `key-${i}:value-${i}`).join('\n');
    const produced = await kcat(
      ['-b', bootstrap, '-P', '-t', 'from-kcat', '-K:', '-z', 'gzip', '-H', 'origin=kcat', '-H', 'n=1'],
      lines,
    );
    expect(produced.code, produced.stderr).toBe(0);

    const consumer = kafkaClient(broker.brokers).consumer({ groupId: 'kafkajs-reads-kcat', ...fastConsumer });
    const got = new Map<string, { value: string; origin: string; n: string }>();
    await consumer.connect();
    await consumer.subscribe({ topic: 'from-kcat', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message: m }) => {
        got.set(m.key!.toString(), {
          value: m.value!.toString(),
          origin: String(m.headers?.origin),
          n: String(m.headers?.n),
        });
      },
    });
    await waitFor(() => got.size >= 20, { what: '20 messages from kcat' });
    await consumer.disconnect();
    for (let i = 0; i < 20; i++)
      expect(got.get(`key-${i}`)).toEqual({ value: `value-${i}`, origin: 'kcat', n: '1' });
  });

  it('kafkajs produces keys and headers; kcat consumes them', async () => {
    const producer = kafkaClient(broker.brokers).producer();
    await producer.connect();
    await producer.send({
      topic: 'to-kcat',
      messages: Array.from({ length: 10 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i}`,
        headers: { trace: `t${i}` },
      })),
    });
    await producer.disconnect();
    const out = await kcat([
      '-b',
      bootstrap,
      '-C',
      '-t',
      'to-kcat',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k|%s|%h\n',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const rows = out.stdout.trim().split('\n').sort();
    expect(rows).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}|v${i}|trace=t${i}`).sort());
  });

  it('runs a kcat balanced consumer group (-G) that commits offsets kafkajs can read', async () => {
    const topic = 'kcat-group';
    const producer = kafkaClient(broker.brokers).producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `g${i}` })),
    });
    await producer.disconnect();

    // Not `-o beginning`: in -G mode kcat applies -o to every assignment, ignoring commits.
    const args = [
      '-b',
      bootstrap,
      '-G',
      'kcat-members',
      '-X',
      'auto.commit.interval.ms=100',
      '-X',
      'auto.offset.reset=earliest',
      '-e',
      '-q',
    ];
    const first = await kcat([...args, '-f', '%s\n', topic], undefined, 30_000);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim().split('\n').sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `g${i}`).sort(),
    );

    const admin = kafkaClient(broker.brokers).admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: 'kcat-members', topics: [topic] });
    const high = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const byPartition = (xs: Array<{ partition: number; offset: string }>) =>
      Object.fromEntries(xs.map((p) => [p.partition, p.offset]));
    expect(byPartition(committed!.partitions)).toEqual(byPartition(high));

    // The group resumes from its commits: nothing is delivered twice.
    const second = await kcat([...args, '-f', '%s\n', topic], undefined, 30_000);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('');
  });
});
