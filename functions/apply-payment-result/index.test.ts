import { describe, expect, it } from 'vitest';
import type { OrderStatus, PaymentStatus } from '../../contracts/orders.ts';
import { NonRetriableError } from '../../runtime/index.ts';
import { invokeEvent } from '../../runtime/testing/index.ts';
import { paymentCompleted, paymentFailed, seedOrder } from '../__fixtures__/factories.ts';
import { setupFunctionTest } from '../__fixtures__/setup.ts';
import { applyPaymentResult } from './index.ts';

const t = setupFunctionTest();
const order = () => t.orders.findOrder('order-1');

describe('apply-payment-result', () => {
  it('given a pending order, when PaymentCompleted arrives, then it is CONFIRMED/PAID', async () => {
    await seedOrder(t.orders);
    t.env.advance(1_000);
    expect(await invokeEvent(applyPaymentResult, paymentCompleted(), t.env)).toBe('handled');

    expect(await order()).toMatchObject({
      status: 'CONFIRMED',
      paymentStatus: 'PAID',
      failureReason: null,
      updatedAt: t.env.clock(),
    });
  });

  it('given a pending order, when PaymentFailed arrives, then it is CANCELLED/FAILED with the reason', async () => {
    await seedOrder(t.orders, { amountMinor: 30001n });
    await invokeEvent(applyPaymentResult, paymentFailed(), t.env);

    expect(await order()).toMatchObject({
      status: 'CANCELLED',
      paymentStatus: 'FAILED',
      failureReason: 'insufficient funds',
    });
  });

  it.each([
    ['PaymentCompleted', paymentCompleted, 'CONFIRMED', 'PAID'],
    ['PaymentFailed', paymentFailed, 'CANCELLED', 'FAILED'],
  ] as const)('%s delivered twice: applied once', async (_, make, status, paymentStatus) => {
    await seedOrder(t.orders);
    const event = make();
    expect(await invokeEvent(applyPaymentResult, event, t.env)).toBe('handled');
    const afterFirst = await order();
    t.env.advance(1_000);
    expect(await invokeEvent(applyPaymentResult, event, t.env)).toBe('duplicate');

    expect(await order()).toEqual(afterFirst);
    expect(afterFirst).toMatchObject({ status, paymentStatus });
  });

  it('a repeated PaymentCompleted with another event id leaves a confirmed order as it is', async () => {
    await seedOrder(t.orders);
    await invokeEvent(applyPaymentResult, paymentCompleted(), t.env);
    const before = await order();
    t.env.advance(1_000);
    expect(await invokeEvent(applyPaymentResult, paymentCompleted(), t.env)).toBe('handled');
    expect(await order()).toEqual(before);
  });

  it.each<[OrderStatus, PaymentStatus, OrderStatus, PaymentStatus]>([
    ['SHIPPED', 'PAID', 'SHIPPED', 'PAID'],
    ['SHIPPED', 'NOT_PAID', 'SHIPPED', 'PAID'],
    ['CONFIRMED', 'PAID', 'CONFIRMED', 'PAID'],
  ])(
    'given a %s/%s order, when PaymentCompleted arrives late, then it is %s/%s (never back)',
    async (status, paymentStatus, endStatus, endPayment) => {
      await seedOrder(t.orders, { status, paymentStatus });
      await invokeEvent(applyPaymentResult, paymentCompleted(), t.env);
      expect(await order()).toMatchObject({ status: endStatus, paymentStatus: endPayment });
    },
  );

  it.each<[string, OrderStatus, PaymentStatus, typeof paymentCompleted | typeof paymentFailed]>([
    ['PaymentFailed for a confirmed order', 'CONFIRMED', 'PAID', paymentFailed],
    ['PaymentFailed for a shipped order', 'SHIPPED', 'PAID', paymentFailed],
    ['PaymentCompleted for a cancelled order', 'CANCELLED', 'FAILED', paymentCompleted],
  ])('dead-letters %s and leaves the order unchanged', async (_, status, paymentStatus, make) => {
    await seedOrder(t.orders, { status, paymentStatus });
    const before = await order();
    const error = await invokeEvent(applyPaymentResult, make(), t.env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toMatch(/conflicts/);
    expect(await order()).toEqual(before);
  });

  it('dead-letters an event for an unknown order', async () => {
    const error = await invokeEvent(applyPaymentResult, paymentCompleted({ orderId: 'ghost' }), t.env).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toBe('Order ghost not found for PaymentCompleted');
  });
});
