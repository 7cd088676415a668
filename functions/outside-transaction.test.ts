/**
 * Issue 9, defect 6: no third-party call while a database transaction is open. With both services on ONE PGlite
 * database (one connection: an open transaction makes every other statement wait), a payment provider that takes
 * 3 s must not slow `GET /orders/:id`, nor a webhook that takes 3 s.
 */
import { describe, expect, it } from 'vitest';
import type { Notification } from '../db/orders/repo.ts';
import { invokeEvent, invokeHttp } from '../runtime/testing/index.ts';
import { paymentFailed, paymentRequested, seedOrder } from './__fixtures__/factories.ts';
import { setupFunctionTest } from './__fixtures__/setup.ts';
import { getOrder } from './get-order/index.ts';
import { notifyPaymentFailed } from './notify-payment-failed/index.ts';
import { processPayment } from './process-payment/index.ts';
import { createSimulatedProvider } from './process-payment/provider.ts';

const SLOW_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sent: Notification[] = [];
const t = setupFunctionTest({
  ports: () => {
    const simulated = createSimulatedProvider();
    sent.length = 0;
    return {
      paymentProvider: {
        async charge(request) {
          await sleep(SLOW_MS);
          return simulated.charge(request);
        },
      },
      notifier: {
        channel: 'webhook',
        async send(notification) {
          await sleep(SLOW_MS);
          sent.push(notification);
        },
      },
    };
  },
});

/** How long a GET of order-1 takes while `slow` is in flight, and whether `slow` was still running then. */
async function getWhile(slow: Promise<unknown>): Promise<{ ms: number; slowStillRunning: boolean }> {
  let done = false;
  void slow.then(() => {
    done = true;
  });
  await sleep(300); // the slow call is under way
  const started = performance.now();
  const response = await invokeHttp(getOrder, { params: { id: 'order-1' } }, t.env);
  const ms = performance.now() - started;
  expect(response.status).toBe(200);
  const slowStillRunning = !done;
  await slow;
  return { ms, slowStillRunning };
}

describe('third-party calls happen outside the transaction', () => {
  it('a 3 s payment provider does not hold up GET /orders/:id on the same database', async () => {
    await seedOrder(t.orders);
    const { ms, slowStillRunning } = await getWhile(invokeEvent(processPayment, paymentRequested(), t.env));
    expect(slowStillRunning).toBe(true);
    expect(ms).toBeLessThan(1_000);
    expect(await t.payments.findPaymentByOrder('order-1')).toMatchObject({ status: 'COMPLETED' });
  }, 20_000);

  it('a 3 s webhook does not hold up GET /orders/:id on the same database', async () => {
    await seedOrder(t.orders, { status: 'CANCELLED', paymentStatus: 'FAILED' });
    const { ms, slowStillRunning } = await getWhile(invokeEvent(notifyPaymentFailed, paymentFailed(), t.env));
    expect(slowStillRunning).toBe(true);
    expect(ms).toBeLessThan(1_000);
    expect(sent).toHaveLength(1);
    expect(await t.orders.listNotifications('order-1')).toHaveLength(1);
  }, 20_000);
});
