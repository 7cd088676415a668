import { describe, expect, it } from 'vitest';
import { invokeHttp } from '../../runtime/testing/index.ts';
import { seedOrder } from '../__fixtures__/factories.ts';
import { setupFunctionTest } from '../__fixtures__/setup.ts';
import { listOrders } from './index.ts';

const t = setupFunctionTest();
const list = (query: Record<string, string> = {}) => invokeHttp(listOrders, { query }, t.env);
const ids = (res: { body: unknown }) =>
  (res.body as { orders: { orderId: string }[] }).orders.map((o) => o.orderId);

describe('list-orders', () => {
  it('lists the most recent orders first, filtered by status, at most limit', async () => {
    await seedOrder(t.orders, { id: 'old', createdAt: new Date('2030-01-01T00:00:00Z') });
    await seedOrder(t.orders, {
      id: 'new',
      status: 'SHIPPED',
      paymentStatus: 'PAID',
      createdAt: new Date('2030-01-02T00:00:00Z'),
    });
    expect(ids(await list())).toEqual(['new', 'old']);
    expect(ids(await list({ status: 'SHIPPED' }))).toEqual(['new']);
    expect(ids(await list({ limit: '1' }))).toEqual(['new']);
  });

  it('refuses an unknown status and a limit out of range', async () => {
    expect((await list({ status: 'LOST' })).status).toBe(400);
    expect((await list({ limit: '0' })).status).toBe(400);
  });
});
