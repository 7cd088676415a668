/**
 * Property-based fuzzing of the Kafka binding (issue 9): generated messages produced with kafkajs to the
 * embedded broker and consumed by real event consumers (`startEventConsumer`) over the real orders store on
 * PGlite, in three consumer groups of the `payment-completed` topic:
 * - ship-order (the real function), batchSize 100 as the host runs it;
 * - a counting function that emits one outbox row per handled event, batchSize 100;
 * - the same counting function with batchSize 1 (the one-message-per-transaction path).
 *
 * Properties, per run and group: every message is either handled exactly once (one inbox row and one effect per
 * event id, whatever the case of the id or how often it was sent) or dead-lettered once with a `dlq-reason`, its
 * key and value intact; handled + duplicates + dead-lettered = produced; every offset is committed; the consumers
 * never stop. Two known defects are collected instead of failing the run, and asserted (as failing today) below.
 * @module
 */
import { Writable } from 'node:stream';
import * as fc from 'fast-check';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PaymentCompleted, Topics } from '../../contracts/events.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { orders } from '../../db/orders/schema.pg.ts';
import { createTestDatabase, type TestDatabase } from '../../db/postgres/test-database.ts';
import { shipOrder } from '../../functions/ship-order/index.ts';
import { defineEvent, defineEventFunction, type Ports } from '../../runtime/index.ts';
import type { RuntimeEnv } from '../../runtime/invoke.ts';
import { startEventConsumer } from '../../runtime/kafka/consumer.ts';
import type { AnyEventFunction } from '../../runtime/kafka/process-message.ts';
import {
  FAST_CONSUMER,
  readTopic,
  startTestKafka,
  type TestKafka,
  waitFor,
} from '../../runtime/kafka/test-kit.ts';
import { createLogger } from '../../runtime/logger.ts';
import { count, fuzzParameters, fuzzSeed } from './fuzz-config.ts';
import { concretize, type EventRecord, messageSpec, PARTITIONS, type Produced } from './kafka-messages.ts';
import { checkGroup, type Defects, type Group, observe } from './kafka-oracle.ts';

const SEED = fuzzSeed(90_209);
const RUNS = 20; // × 95–115 messages each
const TOPIC = Topics.paymentCompleted;
const FAST_RETRIES = { attempts: 2, initialBackoffMs: 10, maxBackoffMs: 50 };

const FuzzEffect = defineEvent('FuzzEffect', {
  version: 1,
  topic: 'fuzz-effects',
  schema: z.object({ consumer: z.string(), sourceEventId: z.string(), orderId: z.string() }),
  key: (data) => data.orderId,
});
/** Emits one outbox row per handled event: an effect that would show a second run of the handler. */
function countingFunction(id: string): AnyEventFunction {
  return defineEventFunction({
    id,
    events: [PaymentCompleted],
    groupId: id,
    store: ordersStore,
    retries: FAST_RETRIES,
    handler: async ({ event, deps }) => {
      deps.emit(FuzzEffect.create({ consumer: id, sourceEventId: event.id, orderId: event.data.orderId }));
    },
  });
}

const groups: Group[] = [
  // The host's retry override (CONSUMER_RETRY_ATTEMPTS) shortened, so a failing message costs milliseconds.
  { name: 'ship-order', fn: { ...shipOrder, retryPolicy: FAST_RETRIES }, batchSize: 100, ships: true },
  { name: 'count-batched', fn: countingFunction('fuzz-count-batched'), batchSize: 100, ships: false },
  { name: 'count-single', fn: countingFunction('fuzz-count-single'), batchSize: 1, ships: false },
].map((g) => ({
  ...g,
  handled: new Set<string>(),
  deadLetterOffsets: new Set<string>(),
  stats: { produced: 0, handled: 0, duplicates: 0, deadLettered: 0, nonLowerIds: 0 },
}));

/** Known defects, collected across runs (see the `it.fails` below). */
const defects: Defects = { lostUpperCase: [], nulDeadLettered: [] };

let k: TestKafka;
let db: TestDatabase;
let admin: Admin;
const crashes: unknown[] = [];
const history: EventRecord[] = [];
const usedIds = new Set<string>();
let run = 0;

beforeAll(async () => {
  [k, db] = await Promise.all([startTestKafka({ defaultPartitions: PARTITIONS }), createTestDatabase()]);
  admin = k.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).trim().split('\n')) {
        const entry = JSON.parse(line) as { msg?: string };
        if (entry.msg === 'consumer crashed') crashes.push(entry);
      }
      done();
    },
  });
  const env: RuntimeEnv = {
    stores: { orders: db.orders },
    ports: {} as Ports,
    clock: () => new Date(),
    logger: createLogger({ level: 'error', destination: sink }),
  };
  for (const group of groups) {
    group.consumer = await startEventConsumer(group.fn, env, k.kafka, k.producer, {
      ...FAST_CONSUMER,
      batchSize: group.batchSize,
      partitionsConsumedConcurrently: PARTITIONS,
    });
  }
  await Promise.all(groups.map((g) => g.consumer!.ready));
  for (const group of groups) group.dlq = await readTopic(k.kafka, group.fn.deadLetterTopic);
}, 120_000);

afterAll(async () => {
  for (const group of groups) await group.dlq?.stop();
  for (const group of groups) await group.consumer?.stop();
  await admin?.disconnect();
  await k?.stop();
  await db?.close();
});

/** Produces the run's messages in `sends` sends and records each message's offset. */
async function produce(produced: Produced[], sends: number): Promise<void> {
  const size = Math.ceil(produced.length / sends);
  for (let start = 0; start < produced.length; start += size) {
    const slice = produced.slice(start, start + size);
    const metadata = await k.producer.send({ topic: TOPIC, acks: -1, messages: slice.map((p) => p.message) });
    const next = new Map(metadata.map((m) => [m.partition, BigInt(m.baseOffset ?? '0')]));
    for (const p of slice) {
      const offset = next.get(p.message.partition)!;
      p.offset = String(offset);
      next.set(p.message.partition, offset + 1n);
    }
  }
}

/** Waits until every group has committed every partition to its end, and every dead letter has been read. */
async function settle(): Promise<void> {
  const ends = await admin.fetchTopicOffsets(TOPIC);
  for (const group of groups) {
    await waitFor(
      async () => {
        const [entry] = await admin.fetchOffsets({ groupId: group.fn.groupId, topics: [TOPIC] });
        return ends.every(
          (end) => entry?.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: `${group.name} to commit every offset (the consumer stopped?)`,
      },
    );
    await waitFor(
      async () => {
        const [dlqEnd] = await admin.fetchTopicOffsets(group.fn.deadLetterTopic);
        return group.dlq!.messages.length === Number(dlqEnd?.high ?? 0);
      },
      { timeoutMs: 15_000, what: `${group.name}'s dead letters` },
    );
  }
}

describe(`Kafka fuzz (seed ${SEED})`, () => {
  it(`handles each of ≥ 2,000 generated messages once or dead-letters it, in three consumer groups`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(messageSpec, { minLength: 95, maxLength: 115, size: 'max' }),
        fc.integer({ min: 1, max: 3 }),
        async (specs, sends) => {
          const { produced, newOrders } = concretize(specs, run++, history, usedIds);
          if (newOrders.length > 0) {
            const createdAt = new Date();
            await db.db.insert(orders).values(
              newOrders.map((id) => ({
                id,
                amountMinor: 5000n,
                currency: 'USD',
                createdAt,
                updatedAt: createdAt,
              })),
            );
          }
          const t0 = performance.now();
          await produce(produced, sends);
          const t1 = performance.now();
          await settle();
          const t2 = performance.now();
          const observed = await observe(db);
          if (process.env.FUZZ_DEBUG) {
            console.log(
              `run ${run - 1}: produce ${Math.round(t1 - t0)} ms, settle ${Math.round(t2 - t1)} ms, observe ${Math.round(performance.now() - t2)} ms`,
            );
          }
          const problems = groups.flatMap((group) => checkGroup(group, produced, observed, defects));
          if (problems.length > 0) throw new Error(`run ${run - 1}:\n${problems.slice(0, 20).join('\n')}`);
        },
      ),
      fuzzParameters(SEED, RUNS, { endOnFailure: true }),
    );
    for (const group of groups) expect(group.stats.produced).toBeGreaterThanOrEqual(2_000);
    // The batched groups really saw upper- and mixed-case ids (what the defect-1 case below is about).
    expect(groups[1]!.stats.nonLowerIds).toBeGreaterThan(100);
    expect(crashes).toEqual([]);
  }, 300_000);

  it('is still consuming afterwards: a final valid event is handled by every group', async () => {
    const orderId = 'k-final';
    const createdAt = new Date();
    await db.db
      .insert(orders)
      .values({ id: orderId, amountMinor: 5000n, currency: 'USD', createdAt, updatedAt: createdAt });
    const event = PaymentCompleted.create({
      orderId,
      paymentId: 'p-final',
      amount: '50.00',
      currency: 'USD',
    });
    await k.producer.send({
      topic: TOPIC,
      acks: -1,
      messages: [
        {
          key: orderId,
          value: JSON.stringify({
            id: event.id,
            type: event.type,
            version: 1,
            time: event.time,
            data: event.data,
          }),
        },
      ],
    });
    await settle();
    const observed = await observe(db);
    for (const group of groups) {
      expect(group.consumer!.isReady(), group.name).toBe(true);
      expect(observed.inbox.get(group.fn.groupId)?.has(event.id), group.name).toBe(true);
    }
    expect(observed.shipped.get(orderId)).toMatchObject({ status: 'SHIPPED', shipments: 1, announced: 1 });
    expect(observed.effects.get('fuzz-count-batched')?.get(event.id)).toBe(1);
    expect(observed.effects.get('fuzz-count-single')?.get(event.id)).toBe(1);
    expect(crashes).toEqual([]);
  }, 60_000);

  // Issue 9 defect 1, fails on today's code: in the batched path (batchSize > 1) `recordInboxMany` returns the
  // ids as PostgreSQL prints them (lower case) and `invokeEventBatch` looks the id up as sent, so an event whose
  // id is an upper- or mixed-case UUID is taken for a duplicate: its inbox row is committed, its handler never
  // runs. `lostUpperCase` lists those events (ship-order: order left PENDING; counter: inbox row, no effect).
  // Flip to `it` once ids are canonicalised; the batchSize-1 group never loses one.
  it.fails('issue 9 defect 1: an upper-case event id is handled, not taken for a duplicate, with batchSize > 1', () => {
    expect(defects.lostUpperCase).toEqual([]);
  });

  // Fails on today's code: a valid event whose correlation-id header holds a NUL character is dead-lettered
  // (after its retries) instead of handled — the header becomes the correlation id of the events the handler
  // emits, and PostgreSQL's jsonb (outbox headers) rejects \u0000 ("unsupported Unicode escape sequence").
  it.fails('a valid event with a NUL in its correlation-id header is handled, not dead-lettered', () => {
    expect(defects.nulDeadLettered).toEqual([]);
  });
});

afterAll(() => {
  const line = groups
    .map(
      (g) =>
        `${g.name} (batch ${g.batchSize}): produced ${count(g.stats.produced)}, handled ${count(g.stats.handled)}, duplicates ${count(g.stats.duplicates)}, dead-lettered ${count(g.stats.deadLettered)}`,
    )
    .join('; ');
  console.log(
    `Kafka fuzz seed ${SEED}, ${run} runs: ${line}; known defects: upper-case ids lost ${defects.lostUpperCase.length}, NUL correlation-id dead-lettered ${defects.nulDeadLettered.length}`,
  );
});
