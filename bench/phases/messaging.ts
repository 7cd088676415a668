/**
 * Phase 3, the messaging ceiling: the same backlog of PaymentRequested events on a broker in its own
 * process, drained by (a) a raw kafkajs consumer doing one transaction per message (the payment insert) and
 * (b) process-payment through the runtime as deployed (`serve process-payment`: decoding and zod validation,
 * inbox, the handler, outbox, offset commits, and the relay publishing the results).
 * Rate = messages ÷ (last done − first started); group joins and start-up are outside it.
 * @module
 */
import { Kafka, logLevel } from 'kafkajs';
import { PaymentRequested } from '../../contracts/events.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import { benchDatabase } from '../lib/database.ts';
import { startObserver } from '../lib/observer.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type BrokerProcess, cpuMeter, startBrokerProcess, startSut } from '../lib/processes.ts';

export interface ConsumerFigures {
  /** Messages done within the time limit (all of the backlog unless `complete` is false). */
  messages: number;
  complete: boolean;
  perSecond: number;
  ms: number;
  cpu: Record<string, number>;
}

export interface MessagingResult {
  messages: number;
  partitions: number;
  rawKafkajs: ConsumerFigures;
  processPayment: ConsumerFigures;
  /** process-payment events/s ÷ raw kafkajs msgs/s. */
  ratio: number;
}

export async function messagingPhase(o: BenchOptions, log: (line: string) => void): Promise<MessagingResult> {
  const n = o.messages;
  const limitMs = o.messagingLimitS * 1000;
  // One broker and one backlog for both: each consumer group starts at the earliest offset, and neither
  // writes to the topic it reads. The raw consumer's process opens its database while the broker starts and
  // the backlog is written; it subscribes only once the backlog is complete.
  const rawDb = await benchDatabase(o.databaseUrl);
  const rawStarting = startSut({
    mode: 'raw-consumer',
    deferConsume: true,
    logLevel: o.logLevel,
    partitions: o.partitions,
    expectedMessages: n,
    limitMs,
    ...(rawDb.url === undefined ? {} : { databaseUrl: rawDb.url }),
  });
  rawStarting.catch(() => {});
  try {
    return await withBroker(o, async (broker) => {
      log(`messaging: raw kafkajs consumer, ${n} messages (at most ${o.messagingLimitS} s)`);
      const rawKafkajs = await (async () => {
        const sut = await rawStarting;
        try {
          const meter = cpuMeter({ sut: sut.pid, broker: broker.child.pid! });
          sut.send({ type: 'consume', brokers: broker.brokers });
          const done = await sut.next('consumed', limitMs + 60_000);
          const ms = done.lastMs - done.firstMs;
          return {
            messages: done.count,
            complete: done.count === n,
            ms: Math.round(ms),
            perSecond: Math.round((done.count * 1000) / ms),
            cpu: meter.stop(),
          };
        } finally {
          await sut.stop();
        }
      })();
      log(`messaging: raw kafkajs → ${rawKafkajs.perSecond} msgs/s`);

      log(`messaging: process-payment, ${n} events (at most ${o.messagingLimitS} s)`);
      const processPayment = await (async () => {
        const db = await benchDatabase(o.databaseUrl);
        const [observer, sut] = await Promise.all([
          startObserver(broker.brokers, ['payment-completed', 'payment-failed']),
          startSut({
            mode: 'functions',
            functions: ['process-payment'],
            brokers: broker.brokers,
            logLevel: o.logLevel,
            partitions: o.partitions,
            ...(db.url === undefined ? {} : { databaseUrl: db.url }),
          }),
        ]);
        try {
          const meter = cpuMeter({ sut: sut.pid, broker: broker.child.pid! });
          // The limit counts from the first result, like the raw consumer's from its first message.
          await observer.until(() => observer.seen.size > 0, 60_000);
          await observer.until(() => observer.seen.size >= n, limitMs);
          const cpu = meter.stop();
          let first = Number.POSITIVE_INFINITY;
          let last = 0;
          for (const t of observer.seen.values()) {
            first = Math.min(first, t);
            last = Math.max(last, t);
          }
          const done = observer.seen.size;
          const ms = last - first;
          return {
            messages: done,
            complete: done >= n,
            ms: Math.round(ms),
            perSecond: Math.round((done * 1000) / ms),
            cpu,
          };
        } finally {
          await sut.stop();
          await observer.stop().catch(() => {});
          await db.drop();
        }
      })();
      log(`messaging: process-payment → ${processPayment.perSecond} events/s`);
      return {
        messages: n,
        partitions: o.partitions,
        rawKafkajs,
        processPayment,
        ratio: Math.round((processPayment.perSecond / rawKafkajs.perSecond) * 100) / 100,
      };
    });
  } finally {
    // Also when the broker or the backlog failed before the raw consumer was used.
    await (await rawStarting.catch(() => undefined))?.stop();
    await rawDb.drop();
  }
}

/** A fresh broker process with `payment-requests` holding `o.messages` PaymentRequested events. */
async function withBroker<T>(o: BenchOptions, run: (broker: BrokerProcess) => Promise<T>): Promise<T> {
  const broker = await startBrokerProcess(o.partitions);
  try {
    const kafka = new Kafka({
      brokers: broker.brokers,
      clientId: 'bench-loader',
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'payment-requests', numPartitions: o.partitions }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < o.messages; i += 500) {
      const messages = [];
      for (let j = i; j < Math.min(o.messages, i + 500); j++) {
        const record = encodeEvent(
          PaymentRequested.create({ orderId: `m-${j}`, amount: '50.00', currency: 'USD' }),
        );
        messages.push({ key: record.key, value: record.value, headers: record.headers });
      }
      await producer.send({ topic: 'payment-requests', messages });
    }
    await producer.disconnect();
    return await run(broker);
  } finally {
    await broker.stop();
  }
}
