/**
 * The whole payment flow in-process: create-order → process-payment → apply-payment-result / ship-order /
 * notify-payment-failed, with outbox rows handed to consumers as a relay would (raw Kafka messages),
 * in every order the two `payment-completed` consumer groups may see them.
 */
import { describe, expect, it } from 'vitest';
import { isForward } from '../contracts/order-lifecycle.ts';
import type { RawEventMessage } from '../runtime/codec.ts';
import type { AnyEventFunction, TransactionalStore } from '../runtime/index.ts';
import { invokeEvent, invokeHttp } from '../runtime/testing/index.ts';
import { outboxRecords, setupFunctionTest, toRaw } from './__fixtures__/setup.ts';
import { applyPaymentResult } from './apply-payment-result/index.ts';
import { createOrder } from './create-order/index.ts';
import { getOrder } from './get-order/index.ts';
import { notifyPaymentFailed } from './notify-payment-failed/index.ts';
import { createLogNotifier } from './notify-payment-failed/notifier.ts';
import { processPayment } from './process-payment/index.ts';
import { createSimulatedProvider } from './process-payment/provider.ts';
import { shipOrder } from './ship-order/index.ts';

const warnings: unknown[] = [];
const t = setupFunctionTest({
  ports: () => {
    warnings.length = 0;
    return {
      paymentProvider: createSimulatedProvider({ limit: '300' }),
      notifier: createLogNotifier({ warn: (...args: unknown[]) => void warnings.push(args) } as never),
    };
  },
});

/** Takes what a relay would publish from `store` on `topic` and marks it published. */
async function publish(store: TransactionalStore<unknown>, topic: string): Promise<RawEventMessage[]> {
  const records = (await outboxRecords(store)).filter((record) => record.topic === topic);
  await store.outbox.markPublished(records.map((record) => record.id));
  return records.map(toRaw);
}

async function deliver(fn: AnyEventFunction, messages: readonly RawEventMessage[]): Promise<void> {
  for (const message of messages) await invokeEvent(fn, message, t.env);
}

async function placeAndPay(amount: string, currency: string): Promise<string> {
  const created = await invokeHttp(createOrder, { body: { amount, currency } }, t.env);
  expect(created.status).toBe(201);
  await deliver(processPayment, await publish(t.db.orders, 'payment-requests'));
  return created.body.orderId as string;
}

const view = async (id: string) => (await invokeHttp(getOrder, { params: { id } }, t.env)).body;

describe('payment flow', () => {
  const steps = { apply: applyPaymentResult, ship: shipOrder } as const;
  type Step = keyof typeof steps;

  it.each<{ order: Step[] }>([
    { order: ['apply', 'ship'] },
    { order: ['ship', 'apply'] },
    { order: ['apply', 'ship', 'apply'] },
    { order: ['ship', 'apply', 'ship'] },
    { order: ['ship', 'ship', 'apply', 'apply'] },
    { order: ['apply', 'apply', 'ship', 'ship'] },
  ])('PaymentCompleted delivered as $order: ends SHIPPED/PAID, status never regresses', async ({ order }) => {
    const orderId = await placeAndPay('300.00', 'USD');
    const [completed] = await publish(t.db.payments, 'payment-completed');
    expect(completed).toBeDefined();

    let previous = (await t.orders.findOrder(orderId))!;
    for (const step of order) {
      t.env.advance(1_000);
      await invokeEvent(steps[step], completed!, t.env);
      const current = (await t.orders.findOrder(orderId))!;
      expect(isForward(previous, current)).toBe(true);
      previous = current;
    }

    expect(await view(orderId)).toMatchObject({
      status: 'SHIPPED',
      paymentStatus: 'PAID',
      shipment: { trackingId: expect.stringMatching(/^TRK-[A-Z0-9]{12}$/), carrier: 'SIM-POST' },
    });
    expect(await publish(t.db.orders, 'order-shipped')).toHaveLength(1);
  });

  it.each([
    ['300.00', 'USD', 'SHIPPED', 'PAID'],
    ['300.01', 'USD', 'CANCELLED', 'FAILED'],
    ['300', 'JPY', 'SHIPPED', 'PAID'],
    ['301', 'JPY', 'CANCELLED', 'FAILED'],
    ['300.000', 'KWD', 'SHIPPED', 'PAID'],
    ['300.001', 'KWD', 'CANCELLED', 'FAILED'],
  ])('%s %s ends %s/%s', async (amount, currency, status, paymentStatus) => {
    const orderId = await placeAndPay(amount, currency);
    const completed = await publish(t.db.payments, 'payment-completed');
    const failed = await publish(t.db.payments, 'payment-failed');
    await deliver(shipOrder, completed);
    await deliver(notifyPaymentFailed, failed);
    await deliver(applyPaymentResult, [...completed, ...failed]);

    const result = await view(orderId);
    expect(result).toMatchObject({ totalAmount: amount, currency, status, paymentStatus });
    if (status === 'CANCELLED') {
      expect(result.failureReason).toBe('insufficient funds');
      expect(result.shipment).toBeUndefined();
      expect(await t.orders.listNotifications(orderId)).toHaveLength(1);
      expect(warnings).toHaveLength(1);
    } else {
      expect(result.shipment).toBeDefined();
      expect(warnings).toHaveLength(0);
    }
  });

  it('a failed payment, delivered twice to each consumer in any order, cancels once and notifies once', async () => {
    const orderId = await placeAndPay('300.01', 'USD');
    const failed = await publish(t.db.payments, 'payment-failed');
    await deliver(notifyPaymentFailed, [...failed, ...failed]);
    await deliver(applyPaymentResult, [...failed, ...failed]);

    expect(await view(orderId)).toMatchObject({ status: 'CANCELLED', paymentStatus: 'FAILED' });
    expect(await t.orders.listNotifications(orderId)).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });
});
