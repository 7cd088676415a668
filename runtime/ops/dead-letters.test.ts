/**
 * Dead-letter tooling against the embedded broker with the real kafkajs client and a real (PGlite) store:
 * two event functions in their own groups on one topic; one dead-letters a poison message and an event its
 * handler fails on (a test-controlled fault), then the tooling lists, shows and redrives them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvent } from '../codec.ts';
import { defineEventFunction, type Ports } from '../define.ts';
import type { RuntimeEnv } from '../invoke.ts';
import { type EventConsumer, startEventConsumer } from '../kafka/consumer.ts';
import { pingedEvent, uniqueTopic } from '../kafka/test-events.ts';
import { FAST_CONSUMER, startTestKafka, type TestKafka, waitFor } from '../kafka/test-kit.ts';
import { kafkaTopicLog } from '../kafka/topic-log.ts';
import { createTestStore, type EffectsRepo, type TestStore } from '../outbox/test-store.ts';
import { storeToken } from '../store.ts';
import { type DeadLetterOps, deadLetterOps } from './dead-letters.ts';
import { deadLetterSources } from './index.ts';

let k: TestKafka;
let store: TestStore;
const consumers: EventConsumer[] = [];
/** The test-controlled handler fault: events with `behaviour: 'fault'` fail while it is on. */
let faultOn = true;
let topic: string;
let ops: DeadLetterOps;
let victimId: string;
let otherId: string;
const faultEventId = randomUUID();
const goodEventId = randomUUID();
const loopEventId = randomUUID();

const effects = async (note: string) => (await store.repo.effects()).filter((e) => e.note === note);

beforeAll(async () => {
  [k, store] = await Promise.all([startTestKafka(), createTestStore('test')]);
  topic = uniqueTopic('orders');
  const Pinged = pingedEvent(topic);
  const suffix = randomUUID().slice(0, 8);
  victimId = `victim-${suffix}`;
  otherId = `other-${suffix}`;
  const victim = defineEventFunction({
    id: victimId,
    events: [Pinged],
    groupId: `victims-${suffix}`,
    store: storeToken<EffectsRepo>('test'),
    retries: { attempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
    handler: async ({ event, deps }) => {
      if (event.data.behaviour === 'fault' && faultOn) throw new Error('handler fault: ledger closed');
      if (event.data.behaviour === 'always') throw new Error('still broken');
      await deps.db.addEffect(event.id, 'victim');
    },
  });
  const other = defineEventFunction({
    id: otherId,
    events: [Pinged],
    groupId: `others-${suffix}`,
    store: storeToken<EffectsRepo>('test'),
    handler: async ({ event, deps }) => {
      await deps.db.addEffect(event.id, 'other');
    },
  });
  const env: RuntimeEnv = {
    stores: { test: store },
    ports: {} as Ports,
    clock: () => new Date(),
    logger: k.logger,
  };
  for (const fn of [victim, other]) {
    const consumer = await startEventConsumer(fn, env, k.kafka, k.producer, FAST_CONSUMER);
    consumers.push(consumer);
    await consumer.ready;
  }
  ops = deadLetterOps({
    sources: deadLetterSources([victim, other]),
    log: kafkaTopicLog(k.kafka, k.producer),
    maxRedrives: 1,
  });
  const record = (n: number, id: string, behaviour?: string) => {
    const r = encodeEvent(
      Pinged.create({ orderId: `o-${n}`, n, ...(behaviour ? { behaviour } : {}) }, { id }),
    );
    return { key: r.key, value: r.value, headers: r.headers };
  };
  await k.producer.send({
    topic,
    acks: -1,
    messages: [
      { key: 'o-poison', value: '{"not": "an event"' },
      record(1, faultEventId, 'fault'),
      record(2, goodEventId),
      record(3, loopEventId, 'always'),
    ],
  });
  await waitFor(async () => (await effects('other')).length === 3 && (await effects('victim')).length === 1, {
    what: 'both groups done with the first delivery',
  });
  await waitFor(async () => (await ops.list(victimId))[0]!.count === 3, { what: 'three dead letters' });
}, 60_000);

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await Promise.all([k?.stop(), store?.close()]);
});

describe('dead-letter tooling', () => {
  it('lists the poison message and the failed events with their reasons, origin and attempts', async () => {
    const [summary] = await ops.list(victimId);
    expect(summary).toMatchObject({ functionId: victimId, count: 3, pending: 3 });
    const [poison, fault, loop] = summary!.entries;
    expect(poison).toMatchObject({
      entry: '0:0',
      originalTopic: topic,
      originalPartition: 0,
      originalOffset: '0',
      key: 'o-poison',
      eventType: null,
      kind: 'invalid-message',
      errorName: 'DecodeError',
      attempts: 0,
      redriveCount: 0,
      redriven: null,
    });
    expect(poison!.reason).toMatch(/malformed JSON/);
    expect(fault).toMatchObject({
      entry: '0:1',
      originalOffset: '1',
      key: 'o-1',
      eventType: 'Pinged',
      eventId: faultEventId,
      kind: 'retries-exhausted',
      reason: 'handler fault: ledger closed',
      attempts: 2,
    });
    expect(fault!.firstFailedAt).toBe(fault!.lastFailedAt);
    expect(loop).toMatchObject({ eventId: loopEventId, reason: 'still broken' });
    const [otherSummary] = await ops.list(otherId);
    // The other group dead-letters the poison message too (it cannot decode it either), nothing else.
    expect(otherSummary!.entries.map((e) => e.kind)).toEqual(['invalid-message']);
  });

  it('shows an entry with its headers and decoded payload', async () => {
    const detail = await ops.show(victimId, '1');
    expect(detail.headers['dlq-function']).toBe(victimId);
    expect(detail.payload).toMatchObject({
      id: faultEventId,
      type: 'Pinged',
      data: { n: 1, behaviour: 'fault' },
    });
  });

  it('--dry-run changes nothing', async () => {
    const results = await ops.redrive(victimId, { all: true }, { dryRun: true });
    expect(results.map((r) => r.outcome)).toEqual(['would-redrive', 'would-redrive', 'would-redrive']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [summary] = await ops.list(victimId);
    expect(summary).toMatchObject({ count: 3, pending: 3 });
    expect(await effects('victim')).toHaveLength(1);
  });

  it('redrives to that function only: handled once after the fault is cleared, other groups see nothing again', async () => {
    faultOn = false;
    expect(await ops.redrive(victimId, { entries: ['0:1'] })).toEqual([
      { entry: '0:1', outcome: 'redriven', detail: 'redrive 1' },
    ]);
    await waitFor(async () => (await effects('victim')).some((e) => e.eventId === faultEventId), {
      what: 'the redriven event handled',
    });
    // Redriving it again is refused (marked), and the entry stays on the dead-letter topic.
    expect((await ops.redrive(victimId, { entries: ['1'] }))[0]).toMatchObject({ outcome: 'skipped' });
    const [summary] = await ops.list(victimId);
    expect(summary).toMatchObject({ count: 3, pending: 2 });
    expect(summary!.entries[1]!.redriven).toMatchObject({ count: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await effects('victim')).filter((e) => e.eventId === faultEventId)).toHaveLength(1);
    expect(await effects('other')).toHaveLength(3);
  });

  it('recorded every attempt in the service: failed ones survived their rollback, the redriven one is handled', async () => {
    const { rows } = await store.db.query<{ value: string }>(
      "SELECT value FROM outbox WHERE topic = 'consumer-attempts' ORDER BY id",
    );
    // Version 2 rows: the attempts of one transaction each (a batch's, or one failed attempt's).
    const attempts = rows
      .map((r) => JSON.parse(r.value).data)
      .flatMap((d) => d.attempts.map((a: object) => ({ functionId: d.functionId, groupId: d.groupId, ...a })))
      .filter((a) => a.functionId === victimId && a.eventId === faultEventId);
    expect(attempts.map((a) => [a.topic, a.attempt, a.outcome, a.error])).toEqual([
      [topic, 1, 'retried', 'Error: handler fault: ledger closed'],
      [topic, 2, 'dead-lettered', 'Error: handler fault: ledger closed'],
      [`${victimId}.redrive`, 1, 'handled', null],
    ]);
    for (const a of attempts)
      expect(a).toMatchObject({ groupId: `victims-${victimId.slice(7)}`, key: 'o-1' });
    expect(attempts.every((a) => a.durationMs >= 0)).toBe(true);
  });

  it('a redrive loop stops at the maximum', async () => {
    expect((await ops.redrive(victimId, { entries: ['0:2'] }))[0]!.outcome).toBe('redriven');
    // The copy fails again (2 fresh attempts) and comes back as a new dead letter carrying redrive-count 1.
    const again = await waitFor(
      async () =>
        (await ops.list(victimId))[0]!.entries.find((e) => e.eventId === loopEventId && e.entry !== '0:2'),
      { what: 'the redriven copy dead-lettered again' },
    );
    expect(again).toMatchObject({ redriveCount: 1, attempts: 2, originalTopic: topic, originalOffset: '3' });
    expect(again.firstFailedAt! < again.lastFailedAt!).toBe(true);
    expect(await ops.redrive(victimId, { entries: [again.entry] })).toEqual([
      { entry: again.entry, outcome: 'skipped', detail: 'redrive limit reached (1 of 1)' },
    ]);
    expect((await ops.redrive(victimId, { all: true })).map((r) => r.entry)).toEqual(['0:0', again.entry]);
  });
});
