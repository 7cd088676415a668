import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, startBroker } from '../../local/kafka-broker/index.ts';
import { createKafkaClient } from '../kafka/client.ts';
import { kafkaPublisher } from '../kafka/publisher.ts';
import { pingRecords, uniqueTopic } from '../kafka/test-events.ts';
import { headerText, readTopic, startTestKafka, type TestKafka, waitFor } from '../kafka/test-kit.ts';
import { quickFailingProducer } from '../kafka/test-producer.ts';
import { ensureTopics } from '../kafka/topics.ts';
import type { NewOutboxRecord, OutboxPort } from '../store.ts';
import { PublishRejectedError } from './errors.ts';
import { type OutboxRelay, startOutboxRelay } from './relay.ts';
import { appendOutbox, createTestStore, type TestStore } from './test-store.ts';

let k: TestKafka;
let store: TestStore;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  [k, store] = await Promise.all([startTestKafka(), createTestStore()]);
});
afterAll(async () => {
  await Promise.all([k?.stop(), store?.close()]);
});
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await store.reset();
});

function relay(options: Partial<Parameters<typeof startOutboxRelay>[0]> = {}): OutboxRelay {
  const started = startOutboxRelay({
    outbox: store.outbox,
    publish: kafkaPublisher(k.producer),
    pollMs: 50,
    batchSize: 10,
    leaseMs: 5_000,
    logger: k.logger,
    ...options,
  });
  relays.push(started);
  return started;
}

const ns = (messages: { value: Buffer | null }[]) =>
  messages.map((m) => (JSON.parse(String(m.value)) as { data: { n: number } }).data.n);

describe('outbox relay', () => {
  it('publishes rows written in a transaction right after the commit nudge, in id order', async () => {
    const topic = uniqueTopic();
    const reader = await readTopic(k.kafka, topic);
    const r = relay({ pollMs: 60_000 }); // no polling: only the nudge can publish in time
    await waitFor(async () => (await store.outbox.pendingCount()) === 0);

    const records = pingRecords(topic, 25);
    await store.transaction(async (tx) => {
      await tx.repo.addEffect('e', 'order placed');
      await tx.appendOutbox(records);
    });
    r.nudge();

    await waitFor(() => reader.messages.length === 25, { what: '25 messages' });
    expect(ns(reader.messages)).toEqual([...Array(25).keys()]);
    expect(reader.messages.map((m) => headerText(m, 'event-id'))).toEqual(records.map((x) => x.eventId));
    expect(String(reader.messages[0]?.key)).toBe('o-1');
    expect(await store.outbox.pendingCount()).toBe(0);
    await reader.stop();
  });

  it('publishes batches spanning several topics, each topic in id order', async () => {
    const [t1, t2] = [uniqueTopic(), uniqueTopic()];
    const [r1, r2] = await Promise.all([readTopic(k.kafka, t1), readTopic(k.kafka, t2)]);
    const records = pingRecords(t1, 6).flatMap((record, i) => [record, ...pingRecords(t2, 1, 'o-2', i)]);
    await store.transaction((tx) => tx.appendOutbox(records));
    await relay().drain();
    await waitFor(() => r1.messages.length === 6 && r2.messages.length === 6, { what: '6 + 6 messages' });
    expect(ns(r1.messages)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ns(r2.messages)).toEqual([0, 1, 2, 3, 4, 5]);
    await Promise.all([r1.stop(), r2.stop()]);
  });

  it('does not publish rows of a transaction that rolled back', async () => {
    const topic = uniqueTopic();
    const r = relay();
    await expect(
      store.transaction(async (tx) => {
        await tx.appendOutbox(pingRecords(topic, 3));
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    await r.drain();
    expect(await store.outbox.pendingCount()).toBe(0);
    const { rows } = await store.db.query('SELECT 1 FROM outbox');
    expect(rows).toHaveLength(0);
  });

  it('recovers rows left by a crash (no relay running, or a lease that expired) and publishes them all in id order', async () => {
    const topic = uniqueTopic();
    await appendOutbox(store.db, pingRecords(topic, 30));
    // A relay that crashed after claiming the first 10 rows: their lease must expire before anyone retakes them.
    const crashedClaim = await store.outbox.claim(10, 300);
    expect(crashedClaim).toHaveLength(10);

    const reader = await readTopic(k.kafka, topic);
    relay();
    await waitFor(() => reader.messages.length >= 30, { what: '30 messages' });
    await waitFor(async () => (await store.outbox.pendingCount()) === 0);
    // All 30 share a key: the leased rows block the later ones until the lease expires, so order holds.
    expect(ns(reader.messages)).toEqual([...Array(30).keys()]);
    expect(reader.messages).toHaveLength(30);
    await reader.stop();
  });

  it('publishes rows inserted while no relay ran in exact id order once started', async () => {
    const topic = uniqueTopic();
    await appendOutbox(store.db, [...pingRecords(topic, 12, 'o-a'), ...pingRecords(topic, 12, 'o-b', 12)]);
    const reader = await readTopic(k.kafka, topic);
    relay();
    await waitFor(() => reader.messages.length === 24, { what: '24 messages' });
    expect(ns(reader.messages)).toEqual([...Array(24).keys()]);
    await reader.stop();
  });

  it('two relays over the same outbox never publish a row twice', async () => {
    const topic = uniqueTopic();
    const reader = await readTopic(k.kafka, topic);
    const a = relay({ batchSize: 7 });
    const b = relay({ batchSize: 7 });
    const expected: NewOutboxRecord[] = [];
    for (let i = 0; i < 10; i++) {
      const records = pingRecords(topic, 8, `o-${i % 3}`, i * 8);
      expected.push(...records);
      await store.transaction((tx) => tx.appendOutbox(records));
      a.nudge();
      b.nudge();
    }
    await waitFor(async () => (await store.outbox.pendingCount()) === 0);
    await waitFor(() => reader.messages.length >= 80, { what: '80 messages' });
    await Promise.all([a.drain(), b.drain()]);
    const ids = reader.messages.map((m) => headerText(m, 'event-id'));
    expect(ids).toHaveLength(80);
    expect(new Set(ids).size).toBe(80);
    // Each key's events arrive in the order they were written.
    for (const key of ['o-0', 'o-1', 'o-2']) {
      const seen = ns(reader.messages.filter((m) => String(m.key) === key));
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
    }
    await reader.stop();
  });

  it('releases the batch when publishing fails, backs off, then publishes it', async () => {
    const topic = uniqueTopic();
    await appendOutbox(store.db, pingRecords(topic, 5));
    const reader = await readTopic(k.kafka, topic);
    const publish = kafkaPublisher(k.producer);
    let failuresLeft = 2;
    relay({
      pollMs: 20,
      publish: async (records) => {
        if (failuresLeft-- > 0) throw new Error('broker unavailable');
        await publish(records);
      },
    });
    await waitFor(() => reader.messages.length === 5, { what: '5 messages' });
    expect(ns(reader.messages)).toEqual([0, 1, 2, 3, 4]);
    const { rows } = await store.db.query<{ attempts: number }>('SELECT attempts FROM outbox ORDER BY id');
    expect(rows.map((row) => row.attempts)).toEqual([3, 3, 3, 3, 3]); // released twice, not left to expire
    await reader.stop();
  });

  it('is single-flight: a nudge during a cycle schedules exactly one more cycle', async () => {
    const topic = uniqueTopic();
    let claims = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const counting: OutboxPort = {
      ...store.outbox,
      claim: async (limit, leaseMs, owner) => {
        claims++;
        if (claims === 1) await gate; // the first cycle hangs until released
        return store.outbox.claim(limit, leaseMs, owner);
      },
    };
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]); // the producer never auto-creates topics
    const r = relay({ outbox: counting, pollMs: 60_000 });
    await waitFor(() => claims === 1);
    r.nudge();
    r.nudge();
    r.nudge();
    await appendOutbox(store.db, pingRecords(topic, 1));
    release();
    await waitFor(() => claims === 2);
    await waitFor(async () => (await store.outbox.pendingCount()) === 0);
    // Give a third cycle every chance to (wrongly) run: drain runs exactly one cycle of its own.
    await r.drain();
    expect(claims).toBe(3);
  });
});

interface RowState {
  key: string;
  failures: number;
  parked: boolean;
  published: boolean;
  lastError: string | null;
}

/** Every outbox row's failure state, in id order. */
async function rowStates(): Promise<RowState[]> {
  const { rows } = await store.db.query<RowState>(
    `SELECT key, failures, parked_at IS NOT NULL AS parked, published_at IS NOT NULL AS published,
            last_error AS "lastError" FROM outbox ORDER BY id`,
  );
  return rows;
}

describe('outbox relay: a row that cannot be published', () => {
  it('is charged and parked after maxFailures, while other keys flow and the later rows of its key wait', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const producer = quickFailingProducer(k.broker.brokers);
    await producer.connect();
    const missing = uniqueTopic('missing');
    // o-stuck's first event goes to a topic nobody created; its next two and o-free's three are fine.
    await appendOutbox(store.db, [
      ...pingRecords(missing, 1, 'o-stuck', 0),
      ...pingRecords(topic, 2, 'o-stuck', 1),
      ...pingRecords(topic, 3, 'o-free', 10),
    ]);
    relay({ publish: kafkaPublisher(producer), maxFailures: 3, pollMs: 20, maxBackoffMs: 50 });

    await waitFor(() => reader.messages.length >= 3, { what: "o-free's three messages" });
    await waitFor(async () => (await rowStates())[0]?.parked, { what: 'the first row parked' });
    const states = await rowStates();
    expect(states[0]).toMatchObject({ key: 'o-stuck', failures: 3, parked: true, published: false });
    expect(states[0]!.lastError).toMatch(/UNKNOWN_TOPIC_OR_PARTITION/);
    // o-stuck's later rows wait behind the parked row (order per key) and were never charged.
    expect(states.slice(1, 3)).toMatchObject([
      { failures: 0, parked: false, published: false },
      { failures: 0, parked: false, published: false },
    ]);
    expect(states.slice(3).every((s) => s.published && s.failures === 0)).toBe(true);
    expect(await store.outbox.parkedCount()).toBe(1);
    expect(ns(reader.messages)).toEqual([10, 11, 12]);

    // The operator creates the topic and republishes: the row goes out, then its key's later rows, in order.
    await ensureTopics(k.kafka, [{ topic: missing, partitions: 1 }]);
    const parked = await store.outbox.listParked();
    expect(parked.map((row) => row.key)).toEqual(['o-stuck']);
    expect(await store.outbox.republish({ ids: parked.map((row) => row.id) })).toBe(1);
    await waitFor(() => reader.messages.length === 5, { what: "o-stuck's two later messages" });
    expect(ns(reader.messages)).toEqual([10, 11, 12, 1, 2]);
    expect(await store.outbox.pendingCount()).toBe(0);
    expect(await store.outbox.parkedCount()).toBe(0);
    await producer.disconnect();
    await reader.stop();
  });

  it('isolates the culprit of a rejected batch: the rest of the batch is published, in order, uncharged', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const big = { ...pingRecords(topic, 1, 'o-big', 100)[0]!, value: 'x'.repeat(70_000) };
    await appendOutbox(store.db, [
      ...pingRecords(topic, 2, 'o-a', 0),
      big,
      ...pingRecords(topic, 2, 'o-big', 101),
      ...pingRecords(topic, 2, 'o-b', 2),
    ]);
    relay({ publish: kafkaPublisher(k.producer, { maxMessageBytes: 64 * 1024 }), maxFailures: 2 });
    await waitFor(() => reader.messages.length >= 4, { what: 'the four other messages' });
    await waitFor(async () => (await rowStates())[2]?.parked, { what: 'the big row parked' });
    expect(ns(reader.messages)).toEqual([0, 1, 2, 3]);
    const states = await rowStates();
    expect(states.map((s) => s.failures)).toEqual([0, 0, 2, 0, 0, 0, 0]);
    expect(states[2]!.lastError).toMatch(/MESSAGE_TOO_LARGE/);
    expect(states.slice(3, 5).every((s) => !s.published)).toBe(true);
    await reader.stop();
  });

  it('an outage while isolating a batch: what went out is marked, the culprit charged, the rest released uncharged', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    await appendOutbox(store.db, [
      ...pingRecords(topic, 1, 'o-a', 0),
      ...pingRecords(topic, 1, 'o-bad', 1),
      ...pingRecords(topic, 1, 'o-b', 2),
      ...pingRecords(topic, 1, 'o-c', 3),
    ]);
    const real = kafkaPublisher(k.producer);
    let outages = 1;
    const singles: string[] = [];
    relay({
      pollMs: 20,
      maxBackoffMs: 50,
      maxFailures: 2,
      publish: async (records) => {
        if (records.length === 1) singles.push(records[0]!.key);
        if (records.some((r) => r.key === 'o-bad'))
          throw new PublishRejectedError('INVALID_RECORD: refused', { records, reason: 'INVALID_RECORD' });
        if (records.length === 1 && records[0]!.key === 'o-b' && outages-- > 0)
          throw new Error('broker down');
        await real(records);
      },
    });
    await waitFor(async () => (await rowStates())[1]?.parked, { what: 'o-bad parked' });
    await waitFor(() => reader.messages.length === 3, { what: 'three messages' });
    // The first isolation: o-a out, o-bad charged, o-b hit the outage (o-c never tried); after the back-off
    // the rest went out and o-bad was charged again, alone.
    expect(singles.slice(0, 3)).toEqual(['o-a', 'o-bad', 'o-b']);
    expect(ns(reader.messages)).toEqual([0, 2, 3]);
    expect((await rowStates()).map((r) => [r.key, r.failures, r.published])).toEqual([
      ['o-a', 0, true],
      ['o-bad', 2, false],
      ['o-b', 0, true],
      ['o-c', 0, true],
    ]);
    await reader.stop();
  });

  it('a broker outage spends no failures and parks nothing; the rows go out once the broker is back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-outage-'));
    let broker = await startBroker({ port: 0, dataDir, logger: silentLogger });
    const port = broker.port;
    const kafka = createKafkaClient({ brokers: broker.brokers, clientId: 'outage', logger: k.logger });
    const producer = quickFailingProducer(broker.brokers);
    await producer.connect();
    const topic = uniqueTopic();
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    await broker.stop();

    let attempts = 0;
    const publish = kafkaPublisher(producer);
    await appendOutbox(store.db, [...pingRecords(topic, 3, 'o-1'), ...pingRecords(topic, 2, 'o-2', 3)]);
    relay({
      pollMs: 20,
      maxBackoffMs: 50,
      maxFailures: 2,
      publish: async (records) => {
        attempts++;
        await publish(records);
      },
    });
    await waitFor(() => attempts >= 6, { what: 'six failed publishes' });
    expect((await rowStates()).map((s) => [s.failures, s.parked, s.published])).toEqual(
      Array.from({ length: 5 }, () => [0, false, false]),
    );

    broker = await startBroker({ port, dataDir, logger: silentLogger });
    await waitFor(async () => (await store.outbox.pendingCount()) === 0, { what: 'every row published' });
    expect((await rowStates()).every((s) => s.failures === 0 && !s.parked)).toBe(true);
    const reader = await readTopic(kafka, topic);
    await waitFor(() => reader.messages.length === 5, { what: 'five messages' });
    expect(ns(reader.messages)).toEqual([0, 1, 2, 3, 4]);
    await reader.stop();
    await producer.disconnect();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
