import { randomUUID } from 'node:crypto';
import { type Admin, type Message, Partitioners, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeEvent } from '../codec.ts';
import { defineEventFunction, type InvocationMeta, type Ports } from '../define.ts';
import { DependencyUnavailableError, NonRetriableError, RetryLaterError } from '../errors.ts';
import type { RuntimeEnv } from '../invoke.ts';
import { createTestStore, type EffectsRepo, type TestStore } from '../outbox/test-store.ts';
import { storeToken } from '../store.ts';
import { type EventConsumerOptions, startEventConsumer } from './consumer.ts';
import type { AnyEventFunction } from './process-message.ts';
import { pingedEvent, uniqueTopic } from './test-events.ts';
import {
  FAST_CONSUMER,
  headerText,
  readTopic,
  startTestKafka,
  type TestKafka,
  type TopicReader,
  waitFor,
} from './test-kit.ts';

const FAILED_AT = new Date('2030-01-02T03:04:05.678Z');
let k: TestKafka;
let store: TestStore;
let admin: Admin;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [k, store] = await Promise.all([startTestKafka(), createTestStore('test')]);
  admin = k.kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
  await Promise.all([k?.stop(), store?.close()]);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await store.reset();
});

type Handler = (n: number, meta: InvocationMeta, repo: EffectsRepo, eventId: string) => Promise<void>;

/** A fresh topic, event function and running consumer; `calls` records every handler invocation. */
async function harness(
  handler: Handler,
  {
    attempts = 3,
    producer = k.producer,
    partitions = 1,
    timeoutMs,
    prepare,
    pool,
    ...options
  }: EventConsumerOptions & {
    attempts?: number;
    producer?: Producer;
    partitions?: number;
    timeoutMs?: number;
    /** Runs before each attempt's transaction (the function's `prepare`). */
    prepare?: () => Promise<void>;
    /** Size of the connection pool the store reports (the test store, PGlite, has none). */
    pool?: number;
  } = {},
) {
  const topic = uniqueTopic('in');
  const Pinged = pingedEvent(topic);
  const calls: { n: number; attempt: number; meta: InvocationMeta }[] = [];
  const id = `fn-${randomUUID().slice(0, 8)}`;
  const fn: AnyEventFunction = defineEventFunction({
    id,
    events: [Pinged],
    groupId: `group-${id}`,
    store: storeToken<EffectsRepo>('test'),
    retries: { attempts, initialBackoffMs: 20, maxBackoffMs: 200 },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(prepare === undefined ? {} : { prepare }),
    handler: async ({ event, deps, meta }) => {
      calls.push({ n: event.data.n, attempt: meta.attempt, meta });
      await handler(event.data.n, meta, deps.db, event.id);
      await deps.db.addEffect(event.id, `n=${event.data.n}`);
    },
  });
  const transactions = { count: 0 };
  const counted: TestStore = {
    ...store,
    transaction: (work) => {
      transactions.count += 1;
      return store.transaction(work);
    },
    ...(pool === undefined ? {} : { poolState: () => ({ max: pool, used: 0, idle: pool, pending: 0 }) }),
  };
  const env: RuntimeEnv = {
    stores: { test: counted },
    ports: {} as Ports,
    clock: () => FAILED_AT,
    logger: k.logger,
  };
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  const start = async (extra: EventConsumerOptions = {}) => {
    const member = await startEventConsumer(fn, env, k.kafka, producer, {
      ...FAST_CONSUMER,
      ...options,
      ...extra,
    });
    cleanups.push(() => member.stop());
    await member.ready;
    return member;
  };
  const consumer = await start();
  const dlq = await readTopic(k.kafka, fn.deadLetterTopic);
  cleanups.push(() => dlq.stop());
  const send = (...messages: Message[]) => k.producer.send({ topic, acks: -1, messages });
  const event = (
    n: number,
    extra: { id?: string; correlationId?: string; orderId?: string } = {},
  ): Message => {
    const { orderId = 'o-1', ...options } = extra;
    const record = encodeEvent(Pinged.create({ orderId, n }, options));
    return { key: record.key, value: record.value, headers: record.headers };
  };
  const committed = async () => {
    const [entry] = await admin.fetchOffsets({ groupId: fn.groupId, topics: [topic] });
    return entry?.partitions[0]?.offset;
  };
  return { fn, topic, calls, consumer, start, dlq, send, event, committed, transactions };
}

const dlqHeaders = (dlq: TopicReader, i: number) =>
  Object.fromEntries(
    Object.keys(dlq.messages[i]?.headers ?? {}).map((name) => [name, headerText(dlq.messages[i]!, name)]),
  );

describe('event consumer', () => {
  it('retries a failing handler with backoff, then dead-letters it with every error header, and moves on', async () => {
    const h = await harness(async (n) => {
      if (n === 0) throw new Error('database unavailable');
    });
    const poison = h.event(0, { correlationId: 'corr-1' });
    await h.send(poison, h.event(1));

    await waitFor(() => h.dlq.messages.length === 1, { what: 'one dead-lettered message' });
    await waitFor(async () => (await h.committed()) === '2', { what: 'offset 2 committed' });
    expect(h.calls.filter((c) => c.n === 0).map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(h.calls.filter((c) => c.n === 1)).toHaveLength(1);

    const dead = h.dlq.messages[0]!;
    expect(String(dead.key)).toBe('o-1');
    expect(String(dead.value)).toBe(poison.value);
    expect(dlqHeaders(h.dlq, 0)).toEqual({
      ...(poison.headers as Record<string, string>),
      'dlq-reason': 'database unavailable',
      'dlq-error': 'Error',
      'dlq-kind': 'retries-exhausted',
      'dlq-function': h.fn.id,
      'dlq-attempts': '3',
      'dlq-original-topic': h.topic,
      'dlq-original-partition': '0',
      'dlq-original-offset': '0',
      'dlq-failed-at': FAILED_AT.toISOString(),
    });
    // Meta of every attempt: correlation from the header, causation = the event id, where it came from.
    const eventId = (poison.headers as Record<string, string>)['event-id'];
    expect(h.calls[0]?.meta).toEqual({
      functionId: h.fn.id,
      correlationId: 'corr-1',
      causationId: eventId,
      attempt: 1,
      source: {
        topic: h.topic,
        partition: 0,
        offset: '0',
        headers: poison.headers,
        timestamp: expect.stringMatching(/^\d+$/),
      },
    });
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(['n=1']);
  });

  it('dead-letters a non-retriable error at once, without retries', async () => {
    const h = await harness(async (n) => {
      if (n === 0) throw new NonRetriableError('card number is not valid');
    });
    await h.send(h.event(0), h.event(1));
    await waitFor(() => h.dlq.messages.length === 1);
    await waitFor(async () => (await h.committed()) === '2');
    expect(h.calls.map((c) => [c.n, c.attempt])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(dlqHeaders(h.dlq, 0)).toMatchObject({
      'dlq-kind': 'non-retriable',
      'dlq-error': 'NonRetriableError',
      'dlq-reason': 'card number is not valid',
      'dlq-attempts': '1',
    });
  });

  it('dead-letters poison messages at once without blocking later messages on the same partition', async () => {
    const h = await harness(async () => {});
    const good = h.event(7);
    const unknownType = { ...JSON.parse(good.value as string), id: randomUUID(), type: 'Unheard' };
    const badSchema = {
      ...JSON.parse(good.value as string),
      id: randomUUID(),
      data: { orderId: 'o-1', n: 'seven' },
    };
    await h.send(
      { key: 'o-1', value: '{"id": "not json' },
      { key: 'o-1', value: JSON.stringify(unknownType) },
      { key: 'o-1', value: JSON.stringify(badSchema) },
      good,
    );
    await waitFor(() => h.dlq.messages.length === 3, { what: 'three dead-lettered messages' });
    await waitFor(async () => (await h.committed()) === '4');
    expect(h.calls.map((c) => c.n)).toEqual([7]);
    expect(h.dlq.messages.map((_, i) => dlqHeaders(h.dlq, i)['dlq-original-offset'])).toEqual([
      '0',
      '1',
      '2',
    ]);
    for (let i = 0; i < 3; i++) {
      expect(dlqHeaders(h.dlq, i)).toMatchObject({
        'dlq-kind': 'invalid-message',
        'dlq-error': 'DecodeError',
        'dlq-attempts': '0',
      });
    }
    const reasons = h.dlq.messages.map((_, i) => dlqHeaders(h.dlq, i)['dlq-reason']);
    expect(reasons[0]).toMatch(/malformed JSON/);
    expect(reasons[1]).toMatch(/unknown event type "Unheard"/);
    expect(reasons[2]).toMatch(/invalid Pinged v1 payload/);
    expect(String(h.dlq.messages[0]?.value)).toBe('{"id": "not json');
  });

  it('handles once, and dead-letters nothing, a retriable failure that succeeds on attempt 3', async () => {
    let failures = 0;
    const h = await harness(async () => {
      if (failures++ < 2) throw new Error('flaky handler');
    });
    await h.send(h.event(0));
    await waitFor(async () => (await h.committed()) === '1');
    expect(h.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(await store.repo.effects()).toHaveLength(1);
    const [dlqOffsets] = await admin.fetchTopicOffsets(h.fn.deadLetterTopic);
    expect(dlqOffsets?.high).toBe('0');
    expect(h.dlq.messages).toHaveLength(0);
  });

  it('commits the offset only after the handler succeeded or the message was dead-lettered', async () => {
    const gates = new Map<number, () => void>();
    const h = await harness(
      (n) =>
        new Promise<void>((resolve, reject) => {
          gates.set(n, n === 1 ? () => reject(new NonRetriableError('no')) : resolve);
        }),
    );
    cleanups.push(async () => {
      for (const open of gates.values()) open(); // never leave a handler hanging (stop waits for it)
    });
    await h.send(h.event(0), h.event(1));
    await waitFor(() => gates.has(0));
    expect(await h.committed()).toBe('-1'); // handler still running
    gates.get(0)!();
    await waitFor(() => gates.has(1));
    await waitFor(async () => (await h.committed()) === '1', { what: 'offset 1 after success' });
    gates.get(1)!();
    await waitFor(async () => (await h.committed()) === '2', { what: 'offset 2 after dead-lettering' });
    expect(h.dlq.messages).toHaveLength(1);
  });

  it('has one effect when the same event is delivered twice', async () => {
    const h = await harness(async () => {});
    const once = h.event(0);
    await h.send(once, once, h.event(1));
    await waitFor(async () => (await h.committed()) === '3');
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(['n=0', 'n=1']);
    expect(h.calls.map((c) => c.n)).toEqual([0, 1]); // the duplicate never reached the handler
  });

  it('does not commit when dead-lettering fails; the message is redelivered and dead-lettered later', async () => {
    const dlqProducer = k.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await dlqProducer.connect();
    cleanups.push(() => dlqProducer.disconnect());
    const h = await harness(
      async () => {
        throw new NonRetriableError('always');
      },
      { producer: dlqProducer },
    );
    await dlqProducer.disconnect(); // dead-letter topic unreachable from now on
    await h.send(h.event(0));
    await waitFor(() => h.calls.length >= 2, { what: 'a redelivery after the failed dead-lettering' });
    expect(await h.committed()).toBe('-1');
    expect(h.dlq.messages).toHaveLength(0);
    await dlqProducer.connect();
    await waitFor(() => h.dlq.messages.length === 1, {
      what: 'the message dead-lettered once the producer is back',
    });
    await waitFor(async () => (await h.committed()) === '1');
  });

  it('stops gracefully: the handler in flight finishes and its offset is committed', async () => {
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = false;
    const h = await harness(async () => {
      entered = true;
      await started;
    });
    expect(h.consumer.isReady()).toBe(true);
    await h.send(h.event(0));
    await waitFor(() => entered);
    const stopping = h.consumer.stop();
    setTimeout(release, 100);
    await stopping;
    expect(h.consumer.isReady()).toBe(false);
    expect(await store.repo.effects()).toHaveLength(1);
    expect(await h.committed()).toBe('1');
  });

  it('abandons a retry on stop without committing, so the next member gets the message', async () => {
    let fail = true;
    const h = await harness(
      async () => {
        if (fail) throw new RetryLaterError('later', { delayMs: 60_000 });
      },
      { attempts: 5 },
    );
    await h.send(h.event(0));
    await waitFor(() => h.calls.length === 1);
    const t0 = Date.now();
    await h.consumer.stop();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await h.committed()).toBe('-1');
    expect(h.dlq.messages).toHaveLength(0);

    fail = false;
    await h.start();
    await waitFor(async () => (await h.committed()) === '1', { what: 'the next member to handle it' });
    expect(h.calls.map((c) => c.attempt)).toEqual([1, 1]);
    expect(await store.repo.effects()).toHaveLength(1);
  });

  it.each([
    ['in parallel when its store has a connection pool', 4, true],
    ['one at a time when it has none (one connection)', undefined, false],
  ])('handles the partitions of its topics %s, by default', async (_what, pool, parallel) => {
    let running = 0;
    let most = 0;
    const h = await harness(async () => {}, {
      partitions: 3,
      ...(pool === undefined ? {} : { pool }),
      // Outside the transaction (the test store has one connection): partitions handled at once overlap here.
      prepare: async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 300));
        running -= 1;
      },
    });
    await h.consumer.stop();
    await h.send(...[0, 1, 2].map((partition) => ({ ...h.event(partition), partition })));
    await h.start(); // its first fetch returns all three partitions
    await waitFor(async () => (await store.repo.effects()).length === 3, { what: 'three effects' });
    if (parallel) expect(most).toBeGreaterThan(1);
    else expect(most).toBe(1);
  });

  it('starts with no admin connection of its own when told its topics and their partition counts', async () => {
    let running = 0;
    let most = 0;
    const h = await harness(async () => {}, {
      partitions: 3,
      pool: 4,
      prepare: async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 300));
        running -= 1;
      },
    });
    await h.consumer.stop();
    await h.send(...[0, 1, 2].map((partition) => ({ ...h.event(partition), partition })));
    const admins = vi.spyOn(k.kafka, 'admin');
    try {
      await h.start({
        knownTopics: new Map([
          [h.topic, 3],
          [h.fn.deadLetterTopic, 1],
          [h.fn.redriveTopic, 1],
        ]),
      });
      expect(admins).not.toHaveBeenCalled();
    } finally {
      admins.mockRestore();
    }
    // The partitions it was told of are consumed in parallel, as when it asked the cluster.
    await waitFor(async () => (await store.repo.effects()).length === 3, { what: 'three effects' });
    expect(most).toBeGreaterThan(1);
  });

  it('keeps each key in order across partitions consumed concurrently and a second member joining', async () => {
    const h = await harness(() => new Promise((resolve) => setTimeout(resolve, 5)), {
      partitions: 3,
      partitionsConsumedConcurrently: 3,
    });
    const keys = ['o-a', 'o-b', 'o-c', 'o-d', 'o-e'];
    const messages = Array.from({ length: 100 }, (_, i) => h.event(i, { orderId: keys[i % keys.length] }));
    await h.send(...messages.slice(0, 50));
    await waitFor(() => h.calls.length >= 10);
    const second = await h.start(); // rebalance while the first member is busy
    await h.send(...messages.slice(50));
    const effects = await waitFor(
      async () => {
        const rows = await store.repo.effects();
        return rows.length >= 100 ? rows : undefined;
      },
      { what: '100 effects', timeoutMs: 30_000 },
    );
    expect(effects).toHaveLength(100);
    expect(new Set(effects.map((e) => e.eventId)).size).toBe(100);
    const byKey = new Map<string, number[]>();
    for (const e of effects) {
      const n = Number(e.note.slice(2));
      const key = keys[n % keys.length]!;
      byKey.set(key, [...(byKey.get(key) ?? []), n]);
    }
    for (const ns of byKey.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    expect(h.consumer.isReady() && second.isReady()).toBe(true);
    const { groups } = await admin.describeGroups([h.fn.groupId]);
    expect(groups[0]?.members).toHaveLength(2);
    expect(h.dlq.messages).toHaveLength(0);
  });
});

describe('event consumer with batchSize > 1 (several messages per transaction)', () => {
  const batched = { batchSize: 20 };

  it('handles a backlog in transactions of several events, each once, in order, and commits every offset', async () => {
    const h = await harness(async () => {}, batched);
    await h.consumer.stop();
    await h.send(...Array.from({ length: 60 }, (_, i) => h.event(i)));
    const before = h.transactions.count;
    await h.start();
    await waitFor(async () => (await h.committed()) === '60', { what: 'offset 60 committed' });
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(
      Array.from({ length: 60 }, (_, i) => `n=${i}`),
    );
    expect(h.calls.map((c) => c.n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // The first 20 after the join are "cold" (attempts counted first, see ARCHITECTURE.md) but still one
    // transaction: ≥ 20 events per transaction but for fetch boundaries.
    expect(h.transactions.count - before).toBeLessThanOrEqual(6);
    expect(h.calls.every((c) => c.meta.attempt === 1)).toBe(true);
    // The attempt log: one row per transaction, carrying its batch's attempts in order.
    const { rows } = await store.db.query<{ value: string }>(
      "SELECT value FROM outbox WHERE topic = 'consumer-attempts' ORDER BY id",
    );
    expect(rows.length).toBeLessThanOrEqual(6);
    const logged = rows.flatMap((row) => JSON.parse(row.value).data.attempts);
    expect(logged.map((a: { outcome: string }) => a.outcome)).toEqual(Array(60).fill('handled'));
    expect(logged.map((a: { offset: string }) => a.offset)).toEqual(
      Array.from({ length: 60 }, (_, i) => String(i)),
    );
  });

  it('handles a cold batch after a join in one transaction; a message with an earlier attempt goes alone', async () => {
    const h = await harness(async () => {}, batched);
    await h.consumer.stop();
    // A previous member died while handling event 4: its attempt was counted and never finished.
    const died = randomUUID();
    await store.attempts!.record(h.fn.groupId, [died], { delta: 1 });
    await h.send(...Array.from({ length: 10 }, (_, i) => h.event(i, i === 4 ? { id: died } : {})));
    const before = h.transactions.count;
    await h.start();
    await waitFor(async () => (await h.committed()) === '10', { what: 'offset 10 committed' });
    expect(h.calls.map((c) => [c.n, c.attempt])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i, i === 4 ? 2 : 1]),
    );
    // Events 0–3 in one transaction, event 4 alone, 5–9 in one.
    expect(h.transactions.count - before).toBe(3);
    const counts = await store.attempts!.record(h.fn.groupId, [died], { delta: 0 });
    expect(counts.get(died)?.attempts).toBe(2);
  });

  it('retries a failing message alone and dead-letters it alone; its batch-mates are handled once', async () => {
    const h = await harness(async (n) => {
      if (n === 5) throw new Error('database unavailable');
    }, batched);
    await h.consumer.stop();
    await h.send(...Array.from({ length: 10 }, (_, i) => h.event(i)));
    await h.start();
    await waitFor(async () => (await h.committed()) === '10', { what: 'offset 10 committed' });
    // The batch attempt counts as attempt 1; attempts 2 and 3 run alone, then the dead-letter topic.
    expect(h.calls.filter((c) => c.n === 5).map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(h.dlq.messages).toHaveLength(1);
    expect(dlqHeaders(h.dlq, 0)).toMatchObject({
      'dlq-original-offset': '5',
      'dlq-attempts': '3',
      'dlq-kind': 'retries-exhausted',
    });
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(
      [0, 1, 2, 3, 4, 6, 7, 8, 9].map((n) => `n=${n}`),
    );
  });

  it('dead-letters a non-retriable failure and an undecodable message alone, without blocking the rest', async () => {
    const h = await harness(async (n) => {
      if (n === 2) throw new NonRetriableError('card number is not valid');
    }, batched);
    await h.consumer.stop();
    await h.send(
      h.event(0),
      h.event(1),
      h.event(2),
      { key: 'o-1', value: '{"id": "not json' },
      h.event(4),
      h.event(5),
    );
    await h.start();
    await waitFor(async () => (await h.committed()) === '6', { what: 'offset 6 committed' });
    await waitFor(() => h.dlq.messages.length === 2);
    expect(h.dlq.messages.map((_, i) => dlqHeaders(h.dlq, i)['dlq-original-offset'])).toEqual(['2', '3']);
    expect(dlqHeaders(h.dlq, 0)).toMatchObject({ 'dlq-kind': 'non-retriable', 'dlq-attempts': '1' });
    expect(dlqHeaders(h.dlq, 1)).toMatchObject({ 'dlq-kind': 'invalid-message', 'dlq-attempts': '0' });
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(['n=0', 'n=1', 'n=4', 'n=5']);
    expect(h.calls.filter((c) => c.n === 2)).toHaveLength(1);
  });

  it('has one effect when the same event is delivered twice within one batch', async () => {
    const h = await harness(async () => {}, batched);
    await h.consumer.stop();
    const once = h.event(0);
    await h.send(once, h.event(1), once);
    await h.start();
    await waitFor(async () => (await h.committed()) === '3');
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(['n=0', 'n=1']);
    expect(h.calls.map((c) => c.n)).toEqual([0, 1]);
  });

  it('keeps each key in order with partitions consumed concurrently', async () => {
    const h = await harness(async () => {}, { ...batched, partitions: 3, partitionsConsumedConcurrently: 3 });
    const keys = ['o-a', 'o-b', 'o-c', 'o-d', 'o-e'];
    await h.send(...Array.from({ length: 100 }, (_, i) => h.event(i, { orderId: keys[i % keys.length] })));
    const effects = await waitFor(
      async () => {
        const rows = await store.repo.effects();
        return rows.length >= 100 ? rows : undefined;
      },
      { what: '100 effects', timeoutMs: 30_000 },
    );
    expect(new Set(effects.map((e) => e.eventId)).size).toBe(100);
    for (const key of keys) {
      const ns = effects.map((e) => Number(e.note.slice(2))).filter((n) => keys[n % keys.length] === key);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
  });
});

describe('event consumer when the infrastructure fails, and across members', () => {
  const dlqOffset = async (topic: string) => (await admin.fetchTopicOffsets(topic))[0]?.high;

  it.each([
    [
      'a provider that says "retry later"',
      () => new RetryLaterError('payment provider busy', { delayMs: 10 }),
    ],
    ['an unavailable database', () => new DependencyUnavailableError('db:test', 'database unreachable')],
  ])('pauses the partition for %s and retries without spending attempts', async (_what, error) => {
    let failures = 0;
    const pausedSeen: string[] = [];
    const h = await harness(
      async () => {
        if (failures === 3) pausedSeen.push(...h.consumer.paused().map((p) => p.dependency));
        if (failures++ < 6) throw error();
      },
      { attempts: 2, pause: { initialMs: 20, maxMs: 100 } },
    );
    await h.send(h.event(0), h.event(1));
    await waitFor(async () => (await h.committed()) === '2', { what: 'both handled' });
    // Seven runs of message 0 at attempt 1 (six infrastructure failures spend nothing), then message 1.
    expect(h.calls.map((c) => [c.n, c.attempt])).toEqual([...Array(7).fill([0, 1]), [1, 1]]);
    expect(pausedSeen).toEqual([error().dependency]);
    expect(h.consumer.paused()).toEqual([]);
    expect(await dlqOffset(h.fn.deadLetterTopic)).toBe('0');
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(['n=0', 'n=1']);
  });

  it('rides out a two-second outage with a batch in flight: nothing dead-lettered, each message once', async () => {
    let downUntil = 0;
    const h = await harness(
      async () => {
        if (Date.now() < downUntil) throw new DependencyUnavailableError('db:test', 'database unreachable');
      },
      { batchSize: 20, attempts: 5, pause: { initialMs: 50, maxMs: 400 } },
    );
    await h.consumer.stop();
    await h.send(...Array.from({ length: 40 }, (_, i) => h.event(i)));
    downUntil = Date.now() + 2_000;
    await h.start();
    await waitFor(async () => (await h.committed()) === '40', { what: 'offset 40', timeoutMs: 20_000 });
    expect(await dlqOffset(h.fn.deadLetterTopic)).toBe('0');
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(
      Array.from({ length: 40 }, (_, i) => `n=${i}`),
    );
    expect(h.calls.every((c) => c.attempt === 1)).toBe(true);
  });

  it('keeps counting attempts when another member takes the message over (durable, not in memory)', async () => {
    const h = await harness(
      async (_n, meta) => {
        if (meta.attempt === 2) void h.consumer.stop(); // the member leaves mid-retry; the message is not committed
        throw new Error('handler bug');
      },
      { attempts: 4 },
    );
    await h.send(h.event(0));
    await waitFor(() => h.calls.length === 2, { what: 'two attempts on the first member' });
    await h.consumer.stop();
    await h.start(); // a new member of the same group gets the partition and the uncommitted message
    await waitFor(() => h.dlq.messages.length === 1, { what: 'dead-lettered', timeoutMs: 20_000 });
    expect(h.calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
    expect(dlqHeaders(h.dlq, 0)).toMatchObject({
      'dlq-attempts': '4',
      'dlq-kind': 'retries-exhausted',
      'dlq-reason': 'handler bug',
    });
  });

  it('fails an attempt that outlives timeoutMs, dead-letters it after its attempts and moves on', async () => {
    const h = await harness(
      async (n) => {
        if (n === 0) await new Promise(() => {}); // hangs forever
      },
      { attempts: 2, timeoutMs: 300 },
    );
    await h.send(h.event(0), h.event(1));
    await waitFor(async () => (await h.committed()) === '2', { what: 'both done', timeoutMs: 20_000 });
    expect(h.dlq.messages).toHaveLength(1);
    expect(dlqHeaders(h.dlq, 0)).toMatchObject({
      'dlq-error': 'HandlerTimeoutError',
      'dlq-attempts': '2',
      'dlq-original-offset': '0',
    });
    expect((await store.repo.effects()).map((e) => e.note)).toEqual(['n=1']);
  });
});
