/**
 * Throughput of the embedded Kafka broker with kafkajs (not a test): produce in batches of 100
 * messages of 1 KiB, then consume everything through a consumer group; repeated with a data
 * directory (acks=1 and acks=-1, the latter waiting for fsync). The broker runs in its own process
 * (`local/kafka-broker/cli.ts`) so its RSS is measured alone. Bounded: each phase stops after
 * MESSAGES messages or PHASE_LIMIT_MS.
 *
 *     npm run bench:broker
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const MESSAGES = 30_000;
const BATCH = 100;
const IN_FLIGHT = 4;
const PHASE_LIMIT_MS = 8_000;
const VALUE = Buffer.alloc(1024, 'x');

interface Broker {
  child: ChildProcess;
  bootstrap: string;
}

async function startBrokerProcess(args: string[]): Promise<Broker> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'local/kafka-broker/cli.ts', '--port', '0', '--quiet', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return { child, bootstrap };
}

/** Resident set size and CPU time (user + system) of a process, from /proc (Linux). */
function usage(pid: number): string {
  try {
    const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const cpuS = (Number(stat[11]) + Number(stat[12])) / 100;
    return `broker RSS ${(kib / 1024).toFixed(0)} MiB, CPU ${cpuS.toFixed(1)} s`;
  } catch {
    return 'broker RSS n/a (no /proc)';
  }
}

async function produce(kafka: Kafka, topic: string, acks: 1 | -1): Promise<{ count: number; ms: number }> {
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: BATCH }, (_, i) => ({ key: `k${i % 16}`, value: VALUE }));
  const start = Date.now();
  let sent = 0;
  const worker = async () => {
    while (sent < MESSAGES && Date.now() - start < PHASE_LIMIT_MS) {
      sent += BATCH;
      await producer.send({ topic, acks, messages });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const ms = Date.now() - start;
  await producer.disconnect();
  return { count: sent, ms };
}

async function consume(
  kafka: Kafka,
  topic: string,
  expected: number,
): Promise<{ count: number; ms: number }> {
  const consumer = kafka.consumer({
    groupId: `bench-${topic}`,
    maxWaitTimeInMs: 100,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let start = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (start === 0) start = Date.now();
      count += batch.messages.length;
      if (count >= expected) done();
    },
  });
  const t0 = Date.now();
  await Promise.race([finished, new Promise((r) => setTimeout(r, PHASE_LIMIT_MS * 2))]);
  const ms = Date.now() - (start || t0);
  await consumer.disconnect();
  return { count, ms };
}

const rate = (r: { count: number; ms: number }) => Math.round((r.count * 1000) / Math.max(r.ms, 1));

async function scenario(
  label: string,
  brokerArgs: string[],
  acks: 1 | -1,
  withConsume: boolean,
): Promise<void> {
  const broker = await startBrokerProcess(brokerArgs);
  try {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, clientId: 'bench' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'bench', numPartitions: 3 }] });
    await admin.disconnect();
    const p = await produce(kafka, 'bench', acks);

    let line = `${label.padEnd(28)} produce ${String(rate(p)).padStart(7)} msg/s (${p.count} msgs, ${((rate(p) * 1024) / 2 ** 20).toFixed(1)} MiB/s)`;
    if (withConsume) {
      const c = await consume(kafka, 'bench', p.count);
      line += `  consume ${String(rate(c)).padStart(7)} msg/s (${c.count} msgs)`;
    }
    console.log(`${line}  ${usage(broker.child.pid!)}`);
  } finally {
    broker.child.kill('SIGTERM');
    await new Promise((r) => broker.child.once('exit', r));
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-broker-'));
try {
  console.log(
    `kafkajs → embedded broker: batches of ${BATCH} × 1 KiB, ${IN_FLIGHT} sends in flight, 3 partitions`,
  );
  await scenario('memory, acks=1', [], 1, true);
  await scenario('dataDir, acks=1', ['--data-dir', join(dataDir, 'a1')], 1, true);
  await scenario('dataDir, acks=-1 (fsync)', ['--data-dir', join(dataDir, 'all')], -1, false);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
