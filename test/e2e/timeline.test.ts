/**
 * The order timeline end to end: the whole system (every function of the manifest, embedded broker, PGlite)
 * with track-order folding every topic, the attempt log and the dead-letter and redrive topics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentCompleted } from '../../contracts/events.ts';
import type { TimelineEntry } from '../../functions/track-order/fold.ts';
import type { RunningBroker } from '../../local/kafka-broker/index.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import { createKafkaClient, sharedProducer } from '../../runtime/kafka/client.ts';
import { testLogger, waitFor } from '../../runtime/kafka/test-kit.ts';
import { type EmbeddedSystem, startEmbeddedSystem } from './embedded-system.ts';

const TOKEN = 'timeline-test-token-0123456789';
let running: EmbeddedSystem;
let broker: RunningBroker;
let url: string;

interface Timeline {
  orderId: string;
  status: string;
  entries: TimelineEntry[];
}
const timeline = async (id: string) =>
  (await (await fetch(`${url}/orders/${id}/timeline`)).json()) as Timeline;
const post = (orderId: string, amount: string) =>
  fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, amount }),
  });
/** `kind:detail` for each entry, e.g. `event:PaymentRequested`, `attempt:ship-order:handled`. */
const shape = (e: TimelineEntry) =>
  e.kind === 'event'
    ? `event:${e.eventType}`
    : e.kind === 'attempt'
      ? `attempt:${e.functionId}:${e.outcome}`
      : `${e.kind}:${e.functionId}`;
/** Waits until the timeline has every one of `wanted` (as `shape`s). */
const timelineWith = (id: string, wanted: string[]) =>
  waitFor(
    async () => {
      const t = await timeline(id);
      const shapes = t.entries.map(shape);
      return wanted.every((w) => shapes.includes(w)) ? t : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `timeline of ${id} with ${wanted.join(', ')}` },
  );

beforeAll(async () => {
  running = await startEmbeddedSystem({ partitions: 1, opsToken: TOKEN });
  ({ broker, url } = running);
}, 120_000);
afterAll(async () => {
  await running?.stop();
});

describe('GET /orders/:id/timeline', () => {
  it('answers 404 for an unknown order', async () => {
    const response = await fetch(`${url}/orders/no-such-order/timeline`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'not_found' });
  });

  it('shows a paid order’s journey: each event with its producer, then the attempts that handled it', async () => {
    expect((await post('tl-paid', '50')).status).toBe(201);
    const t = await timelineWith('tl-paid', [
      'event:PaymentRequested',
      'attempt:process-payment:handled',
      'event:PaymentCompleted',
      'attempt:apply-payment-result:handled',
      'attempt:ship-order:handled',
      'event:OrderShipped',
    ]);
    expect(t.status).toBe('SHIPPED');
    const at = t.entries.map((e) => e.at);
    expect(at).toEqual([...at].sort());
    const events = t.entries.filter((e) => e.kind === 'event');
    expect(events.map((e) => [e.eventType, e.producer])).toEqual([
      ['PaymentRequested', 'create-order'],
      ['PaymentCompleted', 'process-payment'],
      ['OrderShipped', 'ship-order'],
    ]);
    for (const e of events) expect(e.publishedAt! >= e.at).toBe(true);
    const requested = events[0]!;
    const charged = t.entries.find((e) => shape(e) === 'attempt:process-payment:handled')!;
    expect(charged).toMatchObject({
      kind: 'attempt',
      groupId: 'payments',
      attempt: 1,
      eventId: requested.eventId,
      topic: requested.topic,
      offset: requested.offset,
      error: null,
    });
    expect(charged.kind === 'attempt' && charged.durationMs).toBeGreaterThanOrEqual(0);
    const order = t.entries.map(shape);
    expect(order.indexOf('event:PaymentRequested')).toBeLessThan(
      order.indexOf('attempt:process-payment:handled'),
    );
    expect(order.indexOf('attempt:process-payment:handled')).toBeLessThan(
      order.indexOf('event:PaymentCompleted'),
    );
    expect(order.indexOf('attempt:ship-order:handled')).toBeLessThan(order.indexOf('event:OrderShipped'));
  });

  it('shows a failed order’s journey', async () => {
    expect((await post('tl-failed', '450.00')).status).toBe(201);
    const t = await timelineWith('tl-failed', [
      'event:PaymentRequested',
      'attempt:process-payment:handled',
      'event:PaymentFailed',
      'attempt:apply-payment-result:handled',
      'attempt:notify-payment-failed:handled',
    ]);
    expect(t.status).toBe('CANCELLED');
    expect(t.entries.map(shape)).not.toContain('attempt:ship-order:handled');
  });

  it('shows an event that was dead-lettered, then redriven and handled', async () => {
    // A PaymentCompleted for an order that does not exist yet: ship-order dead-letters it (order not found).
    const kafka = createKafkaClient({ brokers: broker.brokers, clientId: 'test', logger: testLogger() });
    const producer = sharedProducer(kafka);
    await producer.connect();
    const early = PaymentCompleted.create({
      orderId: 'tl-dlq',
      paymentId: 'pay-early',
      amount: '10.00',
      currency: 'USD',
    });
    const record = encodeEvent(early);
    await producer.send({
      topic: record.topic,
      acks: -1,
      messages: [{ key: record.key, value: record.value, headers: record.headers }],
    });
    await producer.disconnect();
    const ops = (path: string, init: RequestInit = {}) =>
      fetch(`${url}/ops${path}`, {
        ...init,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      });
    const entry = await waitFor(
      async () => {
        const [summary] = (await (await ops('/dlq?function=ship-order')).json()) as {
          entries: { entry: string; eventId: string }[];
        }[];
        return summary!.entries.find((e) => e.eventId === early.id);
      },
      { timeoutMs: 30_000, what: 'the early PaymentCompleted dead-lettered by ship-order' },
    );
    // The order is created and goes its way; then the dead letter is redriven to ship-order alone.
    expect((await post('tl-dlq', '10.00')).status).toBe(201);
    await timelineWith('tl-dlq', ['dead-letter:ship-order', 'event:OrderShipped']);
    const redriven = await ops('/dlq/ship-order/redrive', {
      method: 'POST',
      body: JSON.stringify({ entries: [entry.entry] }),
    });
    expect(await redriven.json()).toMatchObject({ results: [{ outcome: 'redriven' }] });
    const t = await timelineWith('tl-dlq', ['dead-letter:ship-order', 'redrive:ship-order']);
    const onRedrive = await waitFor(
      async () =>
        (await timeline('tl-dlq')).entries.find(
          (e) => e.kind === 'attempt' && e.functionId === 'ship-order' && e.topic === 'ship-order.redrive',
        ),
      { timeoutMs: 30_000, what: 'ship-order’s attempt on the redriven copy' },
    );
    expect(onRedrive).toMatchObject({ eventId: early.id, outcome: 'handled', attempt: 1 });
    const dead = t.entries.find((e) => e.kind === 'dead-letter')!;
    expect(dead).toMatchObject({ eventId: early.id, errorKind: 'non-retriable', entry: entry.entry });
    expect(dead.kind === 'dead-letter' && dead.reason).toMatch(/not found/);
    const failedAttempt = t.entries.find(
      (e) => e.kind === 'attempt' && e.functionId === 'ship-order' && e.outcome === 'dead-lettered',
    );
    expect(failedAttempt).toMatchObject({
      eventId: early.id,
      error: expect.stringMatching(/NonRetriableError/),
    });
    // Only ship-order saw the copy: apply-payment-result dead-lettered the original once, and nothing more.
    const applies = (await timeline('tl-dlq')).entries.filter(
      (e) => e.kind === 'attempt' && e.functionId === 'apply-payment-result' && e.eventId === early.id,
    );
    expect(applies.map((e) => e.kind === 'attempt' && e.outcome)).toEqual(['dead-lettered']);
  });
});
