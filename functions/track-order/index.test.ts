import { describe, expect, it } from 'vitest';
import { ConsumerAttemptRecorded, ConsumerAttemptsRecorded } from '../../runtime/attempt-log.ts';
import { invokeEvent, invokeHttp } from '../../runtime/testing/index.ts';
import { paymentCompleted, paymentRequested, seedOrder } from '../__fixtures__/factories.ts';
import { setupFunctionTest } from '../__fixtures__/setup.ts';
import { getOrderTimeline } from '../get-order-timeline/index.ts';
import { trackOrderFunction } from './index.ts';

const t = setupFunctionTest();
const trackOrder = trackOrderFunction(['ship-order.dlq', 'ship-order.redrive']);
const timeline = async (id: string) => {
  const res = await invokeHttp(getOrderTimeline, { params: { id } }, t.env);
  return res as { status: number; body: { entries: Record<string, unknown>[] } };
};
const at = (topic: string, offset: string, headers: Record<string, string> = {}) => ({
  source: { topic, partition: 0, offset, headers, timestamp: String(Date.parse('2030-01-01T00:00:05Z')) },
});

describe('track-order', () => {
  it('folds an event, an attempt, a dead letter and a redrive of one order, in time order', async () => {
    await seedOrder(t.orders, { id: 'order-1' });
    const requested = paymentRequested({ orderId: 'order-1' });
    const completed = paymentCompleted({ orderId: 'order-1' });
    await invokeEvent(
      trackOrder,
      requested,
      t.env,
      at('payment-requests', '0', { 'event-producer': 'create-order' }),
    );
    const attempt = ConsumerAttemptRecorded.create({
      functionId: 'ship-order',
      groupId: 'shipping',
      eventId: completed.id,
      eventType: completed.type,
      key: 'order-1',
      topic: 'payment-completed',
      partition: 0,
      offset: '3',
      attempt: 2,
      outcome: 'dead-lettered',
      startedAt: '2030-01-01T00:00:10.000Z',
      durationMs: 4.2,
      error: 'Error: boom',
    });
    await invokeEvent(trackOrder, attempt, t.env, at('consumer-attempts', '7'));
    await invokeEvent(
      trackOrder,
      completed,
      t.env,
      at('ship-order.dlq', '0', {
        'dlq-function': 'ship-order',
        'dlq-reason': 'boom',
        'dlq-kind': 'retries-exhausted',
        'dlq-attempts': '2',
        'dlq-failed-at': '2030-01-01T00:00:11.000Z',
      }),
    );
    await invokeEvent(
      trackOrder,
      completed,
      t.env,
      at('ship-order.redrive', '0', { 'redrive-count': '1', 'redrive-at': '2030-01-01T00:00:12.000Z' }),
    );

    const res = await timeline('order-1');
    expect(res.status).toBe(200);
    expect(res.body.entries.map((e) => e.kind)).toEqual(['event', 'attempt', 'dead-letter', 'redrive']);
    expect(res.body.entries[0]).toMatchObject({
      eventType: 'PaymentRequested',
      producer: 'create-order',
      topic: 'payment-requests',
      publishedAt: '2030-01-01T00:00:05.000Z',
    });
    expect(res.body.entries[1]).toMatchObject({
      functionId: 'ship-order',
      attempt: 2,
      outcome: 'dead-lettered',
      durationMs: 4.2,
    });
    expect(res.body.entries[2]).toMatchObject({
      functionId: 'ship-order',
      reason: 'boom',
      entry: '0:0',
      attempts: 2,
    });
    expect(res.body.entries[3]).toMatchObject({ functionId: 'ship-order', count: 1 });
  });

  it('folds a batch of attempts (attempt log version 2) into the timeline of each order it names', async () => {
    await seedOrder(t.orders, { id: 'order-1' });
    await seedOrder(t.orders, { id: 'order-2' });
    const attempt = (orderId: string, offset: string, startedAt: string) => {
      const requested = paymentRequested({ orderId });
      return {
        eventId: requested.id,
        eventType: requested.type,
        key: orderId,
        topic: 'payment-requests',
        partition: 1,
        offset,
        attempt: 1,
        outcome: 'handled' as const,
        startedAt,
        durationMs: 1.5,
        error: null,
      };
    };
    const batch = ConsumerAttemptsRecorded.create({
      functionId: 'process-payment',
      groupId: 'payments',
      attempts: [
        attempt('order-1', '4', '2030-01-01T00:00:01.000Z'),
        attempt('order-2', '5', '2030-01-01T00:00:02.000Z'),
        attempt('order-1', '6', '2030-01-01T00:00:03.000Z'),
      ],
    });
    expect(await invokeEvent(trackOrder, batch, t.env, at('consumer-attempts', '8'))).toBe('handled');
    const one = (await timeline('order-1')).body.entries;
    expect(one.map((e) => [e.kind, e.functionId, e.offset, e.outcome])).toEqual([
      ['attempt', 'process-payment', '4', 'handled'],
      ['attempt', 'process-payment', '6', 'handled'],
    ]);
    expect((await timeline('order-2')).body.entries).toMatchObject([
      { kind: 'attempt', groupId: 'payments', offset: '5', durationMs: 1.5 },
    ]);
  });

  it('delivered twice: one entry per Kafka record, and copies of one event on other topics each count', async () => {
    await seedOrder(t.orders, { id: 'order-1' });
    const completed = paymentCompleted({ orderId: 'order-1' });
    expect(await invokeEvent(trackOrder, completed, t.env, at('payment-completed', '1'))).toBe('handled');
    expect(await invokeEvent(trackOrder, completed, t.env, at('payment-completed', '1'))).toBe('duplicate');
    expect(await invokeEvent(trackOrder, completed, t.env, at('ship-order.dlq', '0'))).toBe('handled');
    expect((await timeline('order-1')).body.entries.map((e) => e.kind)).toEqual(['event', 'dead-letter']);
  });

  it('keeps no attempt log of its own', () => {
    expect(trackOrder.recordAttempts).toBe(false);
    expect(trackOrder.dedupe).toBe('record');
  });
});

describe('get-order-timeline', () => {
  it('answers 404 for an unknown order', async () => {
    const res = await invokeHttp(getOrderTimeline, { params: { id: 'nope' } }, t.env);
    expect(res.status).toBe(404);
  });

  it('answers an empty timeline for an order nothing happened to yet', async () => {
    await seedOrder(t.orders, { id: 'order-2' });
    expect((await timeline('order-2')).body).toMatchObject({
      orderId: 'order-2',
      status: 'PENDING',
      entries: [],
    });
  });
});
