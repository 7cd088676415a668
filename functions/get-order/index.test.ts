import { describe, expect, it } from 'vitest';
import { invokeHttp } from '../../runtime/testing/index.ts';
import { seedOrder } from '../__fixtures__/factories.ts';
import { setupFunctionTest } from '../__fixtures__/setup.ts';
import { getOrder } from './index.ts';

const t = setupFunctionTest();
const get = (id: string) => invokeHttp(getOrder, { params: { id } }, t.env);

describe('get-order', () => {
  it('returns the view of a pending order', async () => {
    await seedOrder(t.orders, { id: 'order-1', amountMinor: 5000n });
    const res = await get('order-1');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      orderId: 'order-1',
      totalAmount: '50.00',
      currency: 'USD',
      status: 'PENDING',
      paymentStatus: 'NOT_PAID',
      createdAt: '2029-12-31T23:00:00.000Z',
      updatedAt: '2029-12-31T23:00:00.000Z',
    });
  });

  it('includes the failure reason of a cancelled order', async () => {
    await seedOrder(t.orders, {
      id: 'order-1',
      status: 'CANCELLED',
      paymentStatus: 'FAILED',
      failureReason: 'insufficient funds',
    });
    const res = await get('order-1');
    expect(res.body).toMatchObject({
      status: 'CANCELLED',
      paymentStatus: 'FAILED',
      failureReason: 'insufficient funds',
    });
  });

  it('includes the shipment of a shipped order', async () => {
    await seedOrder(t.orders, { id: 'order-1', status: 'SHIPPED', paymentStatus: 'PAID' });
    const shippedAt = new Date('2030-01-01T00:00:00.000Z');
    await t.orders.insertShipment({
      orderId: 'order-1',
      trackingId: 'TRK-ABCDEF123456',
      carrier: 'SIM-POST',
      shippedAt,
    });

    const res = await get('order-1');
    expect(res.body.shipment).toEqual({
      trackingId: 'TRK-ABCDEF123456',
      carrier: 'SIM-POST',
      shippedAt: '2030-01-01T00:00:00.000Z',
    });
  });

  it.each([
    ['JPY', 5000n, '5000'],
    ['KWD', 300001n, '300.001'],
  ])('formats a %s amount with the currency digits', async (currency, amountMinor, text) => {
    await seedOrder(t.orders, { id: 'order-1', currency, amountMinor });
    expect((await get('order-1')).body).toMatchObject({ totalAmount: text, currency });
  });

  it('answers 404 as JSON for an unknown order', async () => {
    const res = await get('order-404');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      status: 'error',
      code: 'not_found',
      message: 'Order order-404 not found',
    });
  });

  it.each([['has space'], ['o'.repeat(65)], ['semi;colon'], ['ünïcode']])(
    'answers 400 for the id %j',
    async (id) => {
      const res = await get(id);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 'error', code: 'validation_failed' });
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'params.id' })]);
    },
  );
});
