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
import { sql } from 'drizzle-orm';
import * as fc from 'fast-check';
import type { Admin, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PaymentCompleted, Topics } from '../../contracts/events.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { orders } from '../../db/orders/schema.pg.ts';
import { createTestDatabase, type TestDatabase } from '../../db/postgres/test-database.ts';
import { shipOrder } from '../../functions/ship-order/index.ts';
import { defineEvent, defineEventFunction, type Ports } from '../../runtime/index.ts';
import type { RuntimeEnv } from '../../runtime/invoke.ts';
import { type EventConsumer, startEventConsumer } from '../../runtime/kafka/consumer.ts';
import type { AnyEventFunction } from '../../runtime/kafka/process-message.ts';
import {
  FAST_CONSUMER,
  headerText,
  readTopic,
  startTestKafka,
  type TestKafka,
  type TopicReader,
  waitFor,
} from '../../runtime/kafka/test-kit.ts';
import { createLogger } from '../../runtime/logger.ts';
import { count, fuzzParameters, fuzzSeed } from './fuzz-config.ts';
import { concretize, type EventRecord, messageSpec, PARTITIONS, type Produced } from './kafka-messages.ts';

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

interface Group {
  name: string;
  fn: AnyEventFunction;
  batchSize: number;
  ships: boolean;
  consumer?: EventConsumer;
  dlq?: TopicReader;
  /** Canonical ids the group has handled (its inbox, as expected). */
  handled: Set<string>;
  stats: { produced: number; handled: number; duplicates: number; deadLettered: number; nonLowerIds: number };
}

const groups: Group[] = [
  // The host's retry override (CONSUMER_RETRY_ATTEMPTS) shortened, so a failing message costs milliseconds.
  { name: 'ship-order', fn: { ...shipOrder, retryPolicy: FAST_RETRIES }, batchSize: 100, ships: true },
  { name: 'count-batched', fn: countingFunction('fuzz-count-batched'), batchSize: 100, ships: false },
  { name: 'count-single', fn: countingFunction('fuzz-count-single'), batchSize: 1, ships: false },
].map((g) => ({
  ...g,
  handled: new Set<string>(),
  stats: { produced: 0, handled: 0, duplicates: 0, deadLettered: 0, nonLowerIds: 0 },
}));

/** Known defects, collected across runs (see the `it.fails` below). */
const lostUpperCase: string[] = [];
const nulDeadLettered: string[] = [];

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

interface Observed {
  inbox: Map<string, Set<string>>;
  effects: Map<string, Map<string, number>>;
  shipped: Map<string, { status: string; shipments: number; announced: number }>;
}

async function observe(): Promise<Observed> {
  const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;
  const inboxRows = rows<{ consumer: string; id: string }>(
    await db.db.execute(sql`select consumer, event_id::text as id from orders.inbox`),
  );
  const effectRows = rows<{ value: string }>(
    await db.db.execute(sql`select value from orders.outbox where topic = 'fuzz-effects'`),
  );
  const orderRows = rows<{ id: string; status: string; shipments: number; announced: number }>(
    await db.db.execute(sql`
      select o.id, o.status, coalesce(s.n, 0)::int as shipments, coalesce(x.n, 0)::int as announced
      from orders.orders o
      left join (select order_id, count(*) as n from orders.shipments group by order_id) s on s.order_id = o.id
      left join (select key, count(*) as n from orders.outbox where topic = 'order-shipped' group by key) x on x.key = o.id`),
  );
  const inbox = new Map<string, Set<string>>();
  for (const row of inboxRows) inbox.set(row.consumer, (inbox.get(row.consumer) ?? new Set()).add(row.id));
  const effects = new Map<string, Map<string, number>>();
  for (const row of effectRows) {
    const { consumer, sourceEventId } = (
      JSON.parse(row.value) as { data: { consumer: string; sourceEventId: string } }
    ).data;
    const byId = effects.get(consumer) ?? new Map<string, number>();
    const id = sourceEventId.toLowerCase();
    byId.set(id, (byId.get(id) ?? 0) + 1);
    effects.set(consumer, byId);
  }
  return { inbox, effects, shipped: new Map(orderRows.map((r) => [r.id, r])) };
}

const dlqSeen = new Map<string, Set<string>>();

/** Checks one group after a run; returns the hard problems (soft ones go to the defect lists). */
function checkGroup(group: Group, produced: Produced[], observed: Observed): string[] {
  const problems: string[] = [];
  const handleable = (p: Produced) => p.event !== undefined && (!group.ships || p.event.knownOrder);
  const byOffset = new Map(produced.map((p) => [`${p.message.partition}/${p.offset}`, p]));
  const seen = dlqSeen.get(group.name) ?? new Set<string>();
  dlqSeen.set(group.name, seen);

  // Dead letters of this run: one per message, with a reason, the original key and value.
  const deadLettered = new Set<Produced>();
  for (const dead of group.dlq!.messages) {
    const where = `${headerText(dead, 'dlq-original-partition')}/${headerText(dead, 'dlq-original-offset')}`;
    const original = byOffset.get(where);
    if (original === undefined) continue; // an earlier run's
    if (seen.has(where)) problems.push(`${where} dead-lettered twice`);
    seen.add(where);
    deadLettered.add(original);
    problems.push(...deadLetterProblems(group, dead, original, where));
  }
  const inbox = observed.inbox.get(group.fn.groupId) ?? new Set<string>();
  const inboxNew = new Set([...inbox].filter((id) => !group.handled.has(id)));
  const batched = group.batchSize > 1;
  const ofId = (id: string) => produced.filter((p) => p.event?.id === id);
  const nonLower = (id: string) => ofId(id).some((p) => p.idText !== id);
  /** Events the handler would dead-letter (ship-order: no such order) that defect 1 skipped as duplicates. */
  const skipped = new Set<string>();
  let skippedMessages = 0;
  let nulMessages = 0;
  for (const p of produced) {
    const where = `${p.message.partition}/${p.offset}`;
    if (!handleable(p) && !deadLettered.has(p)) {
      const id = p.event?.id;
      if (id !== undefined && group.handled.has(id)) {
        skippedMessages += 1; // an earlier run's event that defect 1 skipped: its inbox row makes this a duplicate
      } else if (id !== undefined && batched && inboxNew.has(id) && nonLower(id)) {
        if (!skipped.has(id)) {
          lostUpperCase.push(
            `${group.name}: event ${ofId(id)
              .map((m) => m.idText)
              .join(' / ')} for missing order ${p.event!.orderId} taken for a duplicate, not dead-lettered`,
          );
        }
        skipped.add(id);
        skippedMessages += 1;
      } else {
        problems.push(`${where} (${p.kind}) was not dead-lettered`);
      }
    }
    if (handleable(p) && deadLettered.has(p)) {
      if (p.nulCorrelation) {
        nulDeadLettered.push(`${group.name} ${where} event ${p.idText}: ${reasonOf(group, where)}`);
        nulMessages += 1;
      } else {
        problems.push(`${where} (${p.kind}, event ${p.idText}) was dead-lettered: ${reasonOf(group, where)}`);
      }
    }
  }

  // Handled exactly once: one inbox row per new event id (ids compared canonically, in lower case).
  const delivered = new Map<string, Produced[]>();
  for (const p of produced) {
    if (handleable(p) && !deadLettered.has(p))
      delivered.set(p.event!.id, [...(delivered.get(p.event!.id) ?? []), p]);
  }
  const fresh = [...delivered.keys()].filter((id) => !group.handled.has(id));
  for (const id of fresh)
    if (!inboxNew.has(id)) problems.push(`event ${id} was delivered but has no inbox row`);
  for (const id of inboxNew) {
    if (!delivered.has(id) && !skipped.has(id))
      problems.push(`inbox row for ${id}, which was never delivered whole`);
  }

  for (const id of fresh) {
    const messages = delivered.get(id)!;
    const texts = messages.map((p) => p.idText).join(' / ');
    if (group.ships) {
      const order = observed.shipped.get(messages[0]!.event!.orderId);
      const ok = order?.status === 'SHIPPED' && order.shipments === 1 && order.announced === 1;
      if (!ok && nonLower(id) && batched && order?.shipments === 0) {
        lostUpperCase.push(
          `${group.name}: event ${texts} skipped, order ${messages[0]!.event!.orderId} left ${order.status}`,
        );
      } else if (!ok) {
        problems.push(`order ${messages[0]!.event!.orderId} after event ${id}: ${JSON.stringify(order)}`);
      }
    } else {
      const effects = observed.effects.get(group.fn.id)?.get(id) ?? 0;
      if (effects === 0 && nonLower(id) && batched) {
        lostUpperCase.push(`${group.name}: event ${texts} has an inbox row but its handler never ran`);
      } else if (effects !== 1) {
        problems.push(`event ${id} has ${effects} effects`);
      }
    }
  }
  if (group.ships) {
    for (const [id, order] of observed.shipped) {
      if (order.shipments > 1 || order.announced > 1)
        problems.push(`order ${id} shipped ${order.shipments}×, announced ${order.announced}×`);
    }
  } else {
    for (const [id, n] of observed.effects.get(group.fn.id) ?? []) {
      if (n > 1 || !inbox.has(id)) problems.push(`event ${id}: ${n} effects, inbox row ${inbox.has(id)}`);
    }
  }

  // Accounting: handled + duplicates + dead-lettered = produced, as the model says (less the defects collected).
  const handled = inboxNew.size;
  const dead = deadLettered.size;
  const duplicates = produced.length - handled - dead;
  const handleableIds = new Set(
    produced.filter((p) => handleable(p) && !group.handled.has(p.event!.id)).map((p) => p.event!.id),
  );
  const nulOnly = [...handleableIds].filter((id) => !delivered.has(id)).length;
  const expectedHandled = handleableIds.size - nulOnly + skipped.size;
  const expectedDead = produced.filter((p) => !handleable(p)).length - skippedMessages + nulMessages;
  if (handled !== expectedHandled || dead !== expectedDead) {
    problems.push(
      `handled ${handled}, dead-lettered ${dead}; expected ${expectedHandled} and ${expectedDead}`,
    );
  }
  const s = group.stats;
  s.produced += produced.length;
  s.handled += handled;
  s.duplicates += duplicates;
  s.deadLettered += dead;
  if (group.batchSize > 1)
    s.nonLowerIds += produced.filter((p) => handleable(p) && p.idText !== p.event!.id).length;
  for (const id of [...fresh, ...skipped]) group.handled.add(id);
  return problems.map((p) => `${group.name}: ${p}`);
}

function deadLetterProblems(group: Group, dead: KafkaMessage, original: Produced, where: string): string[] {
  const problems: string[] = [];
  const reason = headerText(dead, 'dlq-reason');
  if (reason === undefined || reason === '') problems.push(`${where} dead-lettered without a dlq-reason`);
  if (headerText(dead, 'dlq-function') !== group.fn.id)
    problems.push(`${where} dlq-function ${headerText(dead, 'dlq-function')}`);
  if (headerText(dead, 'dlq-original-topic') !== TOPIC) problems.push(`${where} dlq-original-topic`);
  const kind = headerText(dead, 'dlq-kind');
  const expectedKind =
    original.event === undefined ? 'invalid-message' : original.nulCorrelation ? undefined : 'non-retriable';
  if (expectedKind !== undefined && kind !== expectedKind)
    problems.push(`${where} dlq-kind ${kind}, expected ${expectedKind} (${reason})`);
  const bytes = (v: unknown) =>
    v === null || v === undefined ? '' : Buffer.from(v as string).toString('hex');
  if (bytes(dead.value) !== bytes(original.message.value))
    problems.push(`${where} value changed on the way to the dead-letter topic`);
  if (bytes(dead.key) !== bytes(original.message.key))
    problems.push(`${where} key changed on the way to the dead-letter topic`);
  return problems;
}

function reasonOf(group: Group, where: string): string | undefined {
  const dead = group.dlq!.messages.find(
    (m) => `${headerText(m, 'dlq-original-partition')}/${headerText(m, 'dlq-original-offset')}` === where,
  );
  return dead === undefined ? undefined : headerText(dead, 'dlq-reason');
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
          const observed = await observe();
          if (process.env.FUZZ_DEBUG) {
            console.log(
              `run ${run - 1}: produce ${Math.round(t1 - t0)} ms, settle ${Math.round(t2 - t1)} ms, observe ${Math.round(performance.now() - t2)} ms`,
            );
          }
          const problems = groups.flatMap((group) => checkGroup(group, produced, observed));
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
    const observed = await observe();
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
    expect(lostUpperCase).toEqual([]);
  });

  // Fails on today's code: a valid event whose correlation-id header holds a NUL character is dead-lettered
  // (after its retries) instead of handled — the header becomes the correlation id of the events the handler
  // emits, and PostgreSQL's jsonb (outbox headers) rejects \u0000 ("unsupported Unicode escape sequence").
  it.fails('a valid event with a NUL in its correlation-id header is handled, not dead-lettered', () => {
    expect(nulDeadLettered).toEqual([]);
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
    `Kafka fuzz seed ${SEED}, ${run} runs: ${line}; known defects: upper-case ids lost ${lostUpperCase.length}, NUL correlation-id dead-lettered ${nulDeadLettered.length}`,
  );
});
