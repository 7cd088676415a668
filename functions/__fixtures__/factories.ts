/**
 * Fixture factories with overrides: orders in any state, and the flow's events.
 * @module
 */
import { PaymentCompleted, PaymentFailed, PaymentRequested } from '../../contracts/events.ts';
import type { Order, OrdersRepo } from '../../db/orders/repo.ts';
import type { EventData } from '../../runtime/index.ts';

export interface OrderSeed extends Partial<Omit<Order, 'createdAt' | 'updatedAt'>> {
  createdAt?: Date;
}

const SEED_TIME = new Date('2029-12-31T23:00:00.000Z');

/**
 * Stores an order, then moves it to the requested status (written directly: this sets up a "given").
 * @example await seedOrder(t.orders, { id: 'o-1', status: 'CONFIRMED', paymentStatus: 'PAID' })
 */
export async function seedOrder(repo: OrdersRepo, seed: OrderSeed = {}): Promise<Order> {
  const id = seed.id ?? 'order-1';
  const createdAt = seed.createdAt ?? SEED_TIME;
  const { order } = await repo.insertOrder({
    id,
    amountMinor: seed.amountMinor ?? 5000n,
    currency: seed.currency ?? 'USD',
    createdAt,
  });
  const target = {
    status: seed.status ?? order.status,
    paymentStatus: seed.paymentStatus ?? order.paymentStatus,
    failureReason: seed.failureReason ?? order.failureReason,
  };
  if (
    target.status !== order.status ||
    target.paymentStatus !== order.paymentStatus ||
    target.failureReason !== null
  ) {
    await repo.updateOrder(id, order, { ...target, updatedAt: createdAt });
  }
  return (await repo.findOrder(id))!;
}

export const paymentRequested = (data: Partial<EventData<typeof PaymentRequested>> = {}) =>
  PaymentRequested.create({ orderId: 'order-1', amount: '50.00', currency: 'USD', ...data });

export const paymentCompleted = (data: Partial<EventData<typeof PaymentCompleted>> = {}) =>
  PaymentCompleted.create({
    orderId: 'order-1',
    paymentId: 'payment-1',
    amount: '50.00',
    currency: 'USD',
    ...data,
  });

export const paymentFailed = (data: Partial<EventData<typeof PaymentFailed>> = {}) =>
  PaymentFailed.create({
    orderId: 'order-1',
    paymentId: 'payment-1',
    amount: '300.01',
    currency: 'USD',
    reason: 'insufficient funds',
    ...data,
  });
