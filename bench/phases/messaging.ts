/**
 * Phase 3, the messaging ceilings: the same backlog of PaymentRequested events on a broker in its own
 * process, drained by
 * (a) bare: a raw kafkajs consumer doing one transaction per message (the payment insert);
 * (b) same work: the same consumer doing process-payment's transaction per message (inbox row, payment row,
 *     PaymentCompleted outbox row, one commit; `bench/sut.ts`);
 * (c) process-payment through the runtime as deployed (`serve process-payment`: decoding and zod validation,
 *     attempt records, inbox, the handler, outbox, offset commits, and the relay publishing the results).
 * Rate = messages ÷ (last done − first started); group joins and start-up are outside it. Ratios: runtime
 * overhead = process-payment ÷ same work, guarantee cost = same work ÷ bare, and process-payment ÷ bare.
 * @module
 */
import { Kafka, logLevel } from 'kafkajs';
import { PaymentRequested } from '../../contracts/events.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import { type BenchDatabase, benchDatabase } from '../lib/database.ts';
import { ratio, requireDone } from '../lib/measured.ts';
import { startObserver } from '../lib/observer.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type BrokerProcess, cpuMeter, type Sut, startBrokerProcess, startSut } from '../lib/processes.ts';

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
  sameWork: ConsumerFigures;
  processPayment: ConsumerFigures;
  /** process-payment events/s ÷ raw kafkajs msgs/s. */
  ratio: number;
  /** process-payment events/s ÷ same-work msgs/s. */
  runtimeOverhead: number;
  /** same-work msgs/s ÷ raw kafkajs msgs/s. */
  guaranteeCost: number;
}

export async function messagingPhase(o: BenchOptions, log: (line: string) => void): Promise<MessagingResult> {
  const n = o.messages;
  const limitMs = o.messagingLimitS * 1000;
  // One broker and one backlog for all: each consumer group starts at the earliest offset, and none writes
  // to the topic it reads. The ceilings' processes open their databases while the broker starts and the
  // backlog is written; each subscribes only once the backlog is complete.
  const rawStarting = startCeiling(o, 'raw-consumer');
  const sameStarting = startCeiling(o, 'same-work-consumer');
  try {
    return await withBroker(o, async (broker) => {
      const drain = async (what: string, starting: ReturnType<typeof startCeiling>) => {
        log(`messaging: ${what}, ${n} messages (at most ${o.messagingLimitS} s)`);
        const { sut } = await starting;
        try {
          const meter = cpuMeter({ sut: sut.pid, broker: broker.child.pid! });
          sut.send({ type: 'consume', brokers: broker.brokers });
          const done = await sut.next('consumed', limitMs + 60_000);
          const ms = done.lastMs - done.firstMs;
          const figures = {
            messages: done.count,
            complete: done.count === n,
            ms: Math.round(ms),
            perSecond: Math.round((done.count * 1000) / ms),
            cpu: meter.stop(),
          };
          requireDone(`messaging ${what}`, figures);
          log(`messaging: ${what} → ${figures.perSecond} msgs/s`);
          return figures;
        } finally {
          await sut.stop();
        }
      };
      const rawKafkajs = await drain('raw kafkajs consumer', rawStarting);
      const sameWork = await drain('same-work kafkajs consumer', sameStarting);

      log(`messaging: process-payment, ${n} events (at most ${o.messagingLimitS} s)`);
      const processPayment = await drainProcessPayment(o, broker);
      log(`messaging: process-payment → ${processPayment.perSecond} events/s`);
      return {
        messages: n,
        partitions: o.partitions,
        rawKafkajs,
        sameWork,
        processPayment,
        ratio: ratio(processPayment.perSecond, rawKafkajs.perSecond),
        runtimeOverhead: ratio(processPayment.perSecond, sameWork.perSecond),
        guaranteeCost: ratio(sameWork.perSecond, rawKafkajs.perSecond),
      };
    });
  } finally {
    // Also when the broker or the backlog failed before a ceiling was used.
    for (const starting of [rawStarting, sameStarting]) {
      const started = await starting.catch(() => undefined);
      await started?.sut.stop();
      await started?.db.drop();
    }
  }
}

/**
 * `serve process-payment` (with `env` added to its environment) draining the backlog on `broker`; done =
 * its result seen on payment-completed/payment-failed by an observer in the orchestrator.
 */
export async function drainProcessPayment(
  o: BenchOptions,
  broker: BrokerProcess,
  env: Record<string, string> = {},
): Promise<ConsumerFigures> {
  const n = o.messages;
  const db = await benchDatabase(o.databaseUrl);
  const [observer, sut] = await Promise.all([
    startObserver(broker.brokers, ['payment-completed', 'payment-failed']),
    startSut({
      mode: 'functions',
      functions: ['process-payment'],
      brokers: broker.brokers,
      logLevel: o.logLevel,
      partitions: o.partitions,
      env,
      ...(db.url === undefined ? {} : { databaseUrl: db.url }),
    }),
  ]);
  try {
    const meter = cpuMeter({ sut: sut.pid, broker: broker.child.pid! });
    // The limit counts from the first result, like the raw consumer's from its first message.
    await observer.until(() => observer.seen.size > 0, 60_000);
    await observer.until(() => observer.seen.size >= n, o.messagingLimitS * 1000);
    const cpu = meter.stop();
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const t of observer.seen.values()) {
      first = Math.min(first, t);
      last = Math.max(last, t);
    }
    const done = observer.seen.size;
    const ms = last - first;
    const figures = {
      messages: done,
      complete: done >= n,
      ms: Math.round(ms),
      perSecond: Math.round((done * 1000) / ms),
      cpu,
    };
    requireDone('messaging process-payment', figures);
    return figures;
  } finally {
    await sut.stop();
    await observer.stop().catch(() => {});
    await db.drop();
  }
}

/** A ceiling consumer's process with its own database, ready but not yet consuming. */
function startCeiling(
  o: BenchOptions,
  mode: 'raw-consumer' | 'same-work-consumer',
): Promise<{ sut: Sut; db: BenchDatabase }> {
  const starting = (async () => {
    const db = await benchDatabase(o.databaseUrl);
    try {
      const sut = await startSut({
        mode,
        deferConsume: true,
        logLevel: o.logLevel,
        partitions: o.partitions,
        // As the runtime's default (runtime/kafka/consumer.ts): a pooled server handles every partition at
        // once, PGlite's one connection one partition at a time; a ceiling with less would flatter the ratio.
        partitionsConsumedConcurrently: db.url === undefined ? 1 : o.partitions,
        expectedMessages: o.messages,
        limitMs: o.messagingLimitS * 1000,
        ...(db.url === undefined ? {} : { databaseUrl: db.url }),
      });
      return { sut, db };
    } catch (error) {
      await db.drop();
      throw error;
    }
  })();
  starting.catch(() => {});
  return starting;
}

/** A fresh broker process with `payment-requests` holding `o.messages` PaymentRequested events. */
export async function withBroker<T>(o: BenchOptions, run: (broker: BrokerProcess) => Promise<T>): Promise<T> {
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
