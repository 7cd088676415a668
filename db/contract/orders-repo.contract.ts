/**
 * Contract: the orders repository. Every engine must pass these.
 * @module
 */
import { describe, expect, it } from 'vitest';
import {
  AT,
  BEYOND_DOUBLE,
  concurrently,
  type GetEngine,
  newOrder,
  notification,
  shipment,
} from './fixtures.ts';

const later = new Date(AT.getTime() + 60_000);

export function describeOrdersRepoContract(engine: GetEngine): void {
  describe('OrdersRepo', () => {
    it('inserts a PENDING, NOT_PAID order and reads it back unchanged', async () => {
      const order = newOrder({ amountMinor: BEYOND_DOUBLE, currency: 'JPY' });
      const { created, order: stored } = await engine().orders.repo.insertOrder(order);
      const expected = {
        ...order,
        status: 'PENDING',
        paymentStatus: 'NOT_PAID',
        failureReason: null,
        updatedAt: AT,
      };
      expect(created).toBe(true);
      expect(stored).toEqual(expected);
      expect(await engine().orders.repo.findOrder(order.id)).toEqual(expected);
    });

    it('returns the existing order, unchanged, for a second insert with the same id', async () => {
      const order = newOrder();
      await engine().orders.repo.insertOrder(order);
      const again = await engine().orders.repo.insertOrder({ ...order, amountMinor: 1n, currency: 'EUR' });
      expect(again.created).toBe(false);
      expect(again.order.amountMinor).toBe(order.amountMinor);
      expect(again.order.currency).toBe('USD');
    });

    it('creates exactly one order when the same id is inserted by concurrent transactions', async () => {
      const order = newOrder();
      const results = await concurrently(8, () =>
        engine().orders.transaction((tx) => tx.repo.insertOrder(order)),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      for (const r of results) expect(r.order).toEqual(results[0]!.order);
    });

    it('rejects a non-positive amount (CHECK constraint)', async () => {
      await expect(engine().orders.repo.insertOrder(newOrder({ amountMinor: 0n }))).rejects.toThrow();
    });

    it('finds nothing for an unknown id, locked or not', async () => {
      expect(await engine().orders.repo.findOrder('missing')).toBeUndefined();
      expect(await engine().orders.transaction((tx) => tx.repo.lockOrder('missing'))).toBeUndefined();
    });

    it('locks and returns an existing order inside a transaction', async () => {
      const order = newOrder();
      await engine().orders.repo.insertOrder(order);
      const locked = await engine().orders.transaction((tx) => tx.repo.lockOrder(order.id));
      expect(locked?.id).toBe(order.id);
    });

    it('updates by compare-and-set, and refuses a stale expected state', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const repo = engine().orders.repo;
      const paid = {
        status: 'CONFIRMED',
        paymentStatus: 'PAID',
        failureReason: null,
        updatedAt: later,
      } as const;
      expect(await repo.updateOrder(order.id, { status: 'PENDING', paymentStatus: 'NOT_PAID' }, paid)).toBe(
        true,
      );
      const failed = {
        status: 'CANCELLED',
        paymentStatus: 'FAILED',
        failureReason: 'late',
        updatedAt: later,
      } as const;
      expect(await repo.updateOrder(order.id, { status: 'PENDING', paymentStatus: 'NOT_PAID' }, failed)).toBe(
        false,
      );
      expect(await repo.findOrder(order.id)).toMatchObject({
        status: 'CONFIRMED',
        paymentStatus: 'PAID',
        updatedAt: later,
      });
      expect(await repo.updateOrder('missing', { status: 'PENDING', paymentStatus: 'NOT_PAID' }, paid)).toBe(
        false,
      );
    });

    it('lets exactly one of several concurrent updates from the same expected state win', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const expected = { status: 'PENDING', paymentStatus: 'NOT_PAID' } as const;
      const results = await concurrently(6, (i) =>
        engine().orders.transaction((tx) =>
          tx.repo.updateOrder(order.id, expected, {
            ...(i % 2
              ? { status: 'CONFIRMED', paymentStatus: 'PAID' }
              : { status: 'CANCELLED', paymentStatus: 'FAILED' }),
            failureReason: `writer-${i}`,
            updatedAt: later,
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await engine().orders.repo.findOrder(order.id);
      expect(stored?.failureReason).toBe(`writer-${results.indexOf(true)}`);
    });

    it('claims an idempotency key once and returns the first record to later claims', async () => {
      const first = { key: 'idem-1', requestHash: 'h1', orderId: 'ord-a', createdAt: AT };
      const results = await concurrently(5, (i) =>
        engine().orders.transaction((tx) =>
          tx.repo.claimIdempotencyKey(
            i === 0 ? first : { ...first, requestHash: `h${i + 1}`, orderId: `ord-${i}` },
          ),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)!.record;
      for (const r of results) expect(r.record).toEqual(winner);
      const again = await engine().orders.repo.claimIdempotencyKey({ ...first, requestHash: 'other' });
      expect(again).toEqual({ created: false, record: winner });
    });

    it('stores one shipment per order, even under concurrent inserts', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const results = await concurrently(5, () =>
        engine().orders.transaction((tx) => tx.repo.insertShipment(shipment(order.id))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await engine().orders.repo.findShipment(order.id)).toMatchObject({
        orderId: order.id,
        shippedAt: AT,
      });
      expect(await engine().orders.repo.findShipment('missing')).toBeUndefined();
    });

    it('stores one notification per (order, kind) and lists them', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const first = notification(order.id);
      const results = await concurrently(4, (i) =>
        engine().orders.transaction((tx) =>
          tx.repo.insertNotification(i === 0 ? first : notification(order.id)),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const listed = await engine().orders.repo.listNotifications(order.id);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({
        orderId: order.id,
        kind: 'payment-failed',
        channel: 'email',
        createdAt: AT,
      });
      expect(await engine().orders.repo.listNotifications('missing')).toEqual([]);
    });
  });
}
