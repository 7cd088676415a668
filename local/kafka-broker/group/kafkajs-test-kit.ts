/**
 * Shared helpers for the group coordinator's kafkajs integration tests (`../group-*.test.ts`).
 * @module
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type Consumer, type ConsumerConfig, Kafka, logLevel } from 'kafkajs';
import { type RunningBroker, silentLogger, startBroker } from '../index.ts';

/** Fast group timings so rebalances take well under a second. */
export const fastGroup = {
  sessionTimeout: 1500,
  rebalanceTimeout: 3000,
  heartbeatInterval: 100,
  maxWaitTimeInMs: 100,
  retry: { initialRetryTime: 50, retries: 8 },
} satisfies Partial<ConsumerConfig>;

/** Polls `cond` every 20 ms until it holds; fails with `label` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  label: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A message as seen by a test consumer. */
export interface Seen {
  by: string;
  partition: number;
  offset: number;
  value: string;
}

/** A started broker plus kafkajs clients that are all torn down by {@link Cluster.close}. */
export interface Cluster {
  broker: RunningBroker;
  kafka: (clientId: string) => Kafka;
  consumers: Consumer[];
  /** Extra teardown steps run by {@link Cluster.close} before the broker stops. */
  teardown: (() => Promise<void>)[];
  close(): Promise<void>;
}

/** Starts an in-memory broker on a free port. */
export async function startCluster(opts: { dataDir?: string } = {}): Promise<Cluster> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const broker = await startBroker({ port: 0, logger: silentLogger, ...opts });
  const cluster: Cluster = {
    broker,
    kafka: (clientId) => new Kafka({ clientId, brokers: broker.brokers, logLevel: logLevel.NOTHING }),
    consumers: [],
    teardown: [],
    async close() {
      await Promise.allSettled([
        ...cluster.teardown.map((f) => f()),
        ...cluster.consumers.map((c) => c.disconnect()),
      ]);
      await broker.stop();
    },
  };
  return cluster;
}

/** Creates, connects and runs a consumer that records every message into `seen`. */
export async function runConsumer(
  cluster: Cluster,
  opts: { name: string; groupId: string; topic: string; seen: Seen[]; config?: Partial<ConsumerConfig> },
): Promise<Consumer> {
  const consumer = cluster.kafka(opts.name).consumer({ groupId: opts.groupId, ...fastGroup, ...opts.config });
  cluster.consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      opts.seen.push({
        by: opts.name,
        partition,
        offset: Number(message.offset),
        value: message.value!.toString(),
      });
    },
  });
  return consumer;
}

/** kafkajs consumer run in a child process, so a test can SIGKILL it like a crashed service. */
const CHILD_CONSUMER = `
const { Kafka, logLevel } = require('kafkajs');
const fs = require('node:fs');
const [brokers, groupId, topic, name, config] = process.argv.slice(1);
const out = (o) => fs.writeSync(1, JSON.stringify(o) + '\\n');
(async () => {
  const kafka = new Kafka({ clientId: name, brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, ...JSON.parse(config) });
  consumer.on(consumer.events.GROUP_JOIN, (e) => out({ joined: e.payload.memberId }));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      out({ partition, offset: Number(message.offset), value: message.value.toString() }),
  });
})().catch((err) => { out({ error: String(err) }); process.exit(1); });
`;

/** A consumer in a child process; `seen` fills as it prints consumed messages. */
export interface ChildConsumer {
  memberIds: string[];
  kill(): Promise<void>;
}

/** Spawns a kafkajs consumer in a separate Node process that records into `seen`. */
export function spawnConsumer(
  cluster: Cluster,
  opts: { name: string; groupId: string; topic: string; seen: Seen[] },
): ChildConsumer {
  const args = [cluster.broker.brokers[0]!, opts.groupId, opts.topic, opts.name, JSON.stringify(fastGroup)];
  const child = spawn(process.execPath, ['-e', CHILD_CONSUMER, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const memberIds: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as {
      joined?: string;
      error?: string;
      partition: number;
      offset: number;
      value: string;
    };
    if (msg.error) process.stderr.write(`child consumer ${opts.name}: ${msg.error}\n`);
    else if (msg.joined) memberIds.push(msg.joined);
    else opts.seen.push({ by: opts.name, partition: msg.partition, offset: msg.offset, value: msg.value });
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  cluster.teardown.push(kill);
  return { memberIds, kill };
}
