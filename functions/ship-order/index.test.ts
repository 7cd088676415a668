import { describe, expect, it } from 'vitest';
import { OrderShipped } from '../../contracts/events.ts';
import type { OrderStatus, PaymentStatus } from '../../contracts/orders.ts';
import { NonRetriableError } from '../../runtime/index.ts';
import { invokeEvent } from '../../runtime/testing/index.ts';
import { paymentCompleted, seedOrder } from '../__fixtures__/factories.ts';
import { outboxEvents, setupFunctionTest } from '../__fixtures__/setup.ts';
import { shipOrder } from './index.ts';

const t = setupFunctionTest();
const shipped = () => outboxEvents(t.db.orders, [OrderShipped]);

describe('ship-order', () => {
  it.each<[OrderStatus, PaymentStatus]>([
    ['CONFIRMED', 'PAID'],
    ['PENDING', 'NOT_PAID'],
  ])(
    'given a %s/%s order, then it records a shipment, becomes SHIPPED/PAID and emits OrderShipped',
    async (status, paymentStatus) => {
      await seedOrder(t.orders, { status, paymentStatus });
      await invokeEvent(shipOrder, paymentCompleted(), t.env);

      const shipment = await t.orders.findShipment('order-1');
      expect(shipment).toEqual({
        orderId: 'order-1',
        trackingId: expect.stringMatching(/^TRK-[A-Z0-9]{12}$/),
        carrier: 'SIM-POST',
        shippedAt: t.env.clock(),
      });
      expect(await t.orders.findOrder('order-1')).toMatchObject({ status: 'SHIPPED', paymentStatus: 'PAID' });
      const events = await shipped();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'OrderShipped',
        key: 'order-1',
        data: { orderId: 'order-1', trackingId: shipment?.trackingId, carrier: 'SIM-POST' },
      });
    },
  );

  it('delivered twice: one shipment, one OrderShipped', async () => {
    await seedOrder(t.orders, { status: 'CONFIRMED', paymentStatus: 'PAID' });
    const event = paymentCompleted();
    expect(await invokeEvent(shipOrder, event, t.env)).toBe('handled');
    const first = await t.orders.findShipment('order-1');
    expect(await invokeEvent(shipOrder, event, t.env)).toBe('duplicate');

    expect(await t.orders.findShipment('order-1')).toEqual(first);
    expect(await shipped()).toHaveLength(1);
  });

  it('a second PaymentCompleted (another event id) does not ship again', async () => {
    await seedOrder(t.orders, { status: 'CONFIRMED', paymentStatus: 'PAID' });
    await invokeEvent(shipOrder, paymentCompleted(), t.env);
    const first = await t.orders.findShipment('order-1');
    expect(await invokeEvent(shipOrder, paymentCompleted(), t.env)).toBe('handled');

    expect(await t.orders.findShipment('order-1')).toEqual(first);
    expect(await shipped()).toHaveLength(1);
  });

  it('never ships a cancelled order', async () => {
    await seedOrder(t.orders, {
      status: 'CANCELLED',
      paymentStatus: 'FAILED',
      failureReason: 'insufficient funds',
    });
    const before = await t.orders.findOrder('order-1');
    expect(await invokeEvent(shipOrder, paymentCompleted(), t.env)).toBe('handled');

    expect(await t.orders.findShipment('order-1')).toBeUndefined();
    expect(await t.orders.findOrder('order-1')).toEqual(before);
    expect(await shipped()).toHaveLength(0);
  });

  it('dead-letters an event for an unknown order', async () => {
    const error = await invokeEvent(shipOrder, paymentCompleted({ orderId: 'ghost' }), t.env).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NonRetriableError);
    expect(await shipped()).toHaveLength(0);
  });
});
