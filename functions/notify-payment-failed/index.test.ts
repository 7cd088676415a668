import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../db/orders/repo.ts';
import { NonRetriableError, RetryLaterError } from '../../runtime/index.ts';
import { invokeEvent } from '../../runtime/testing/index.ts';
import { paymentFailed, seedOrder } from '../__fixtures__/factories.ts';
import { setupFunctionTest } from '../__fixtures__/setup.ts';
import { notifyPaymentFailed } from './index.ts';
import { createLogNotifier, createWebhookNotifier, type Notifier } from './notifier.ts';

/** Warn lines written by the log notifier. */
const warnings: unknown[][] = [];
/** What the notifier does next: `undefined` sends, an error fails the send. */
let failNext: Error | undefined;
const notifier: Notifier = (() => {
  const inner = createLogNotifier({ warn: (...args: unknown[]) => void warnings.push(args) } as never);
  return {
    channel: inner.channel,
    async send(notification: Notification) {
      const failure = failNext;
      failNext = undefined;
      if (failure !== undefined) throw failure;
      await inner.send(notification);
    },
  };
})();

let ports: { notifier: Notifier } = { notifier };
const t = setupFunctionTest({
  ports: () => {
    warnings.length = 0;
    failNext = undefined;
    return ports;
  },
});

describe('notify-payment-failed', () => {
  it('records one notification and sends it as one warn line', async () => {
    await seedOrder(t.orders, {
      status: 'CANCELLED',
      paymentStatus: 'FAILED',
      failureReason: 'insufficient funds',
    });
    await invokeEvent(notifyPaymentFailed, paymentFailed(), t.env);

    const [notification] = await t.orders.listNotifications('order-1');
    expect(notification).toMatchObject({
      orderId: 'order-1',
      kind: 'payment-failed',
      channel: 'log',
      message: 'Payment of 300.01 USD for order order-1 failed: insufficient funds',
      createdAt: t.env.clock(),
    });
    expect(warnings).toEqual([
      [
        { notificationId: notification?.id, orderId: 'order-1', kind: 'payment-failed' },
        'Payment of 300.01 USD for order order-1 failed: insufficient funds',
      ],
    ]);
  });

  it('delivered twice: one notification, one send', async () => {
    await seedOrder(t.orders);
    const event = paymentFailed();
    expect(await invokeEvent(notifyPaymentFailed, event, t.env)).toBe('handled');
    expect(await invokeEvent(notifyPaymentFailed, event, t.env)).toBe('duplicate');

    expect(await t.orders.listNotifications('order-1')).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });

  it('a second PaymentFailed for the same order (another event id) sends nothing more', async () => {
    await seedOrder(t.orders);
    await invokeEvent(notifyPaymentFailed, paymentFailed(), t.env);
    expect(await invokeEvent(notifyPaymentFailed, paymentFailed(), t.env)).toBe('handled');

    expect(await t.orders.listNotifications('order-1')).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });

  it('a failed send records nothing, so the retry sends it', async () => {
    await seedOrder(t.orders);
    const event = paymentFailed();
    failNext = new RetryLaterError('receiver down');
    await expect(invokeEvent(notifyPaymentFailed, event, t.env)).rejects.toBeInstanceOf(RetryLaterError);
    expect(await t.orders.listNotifications('order-1')).toHaveLength(0);

    expect(await invokeEvent(notifyPaymentFailed, event, t.env, { attempt: 2 })).toBe('handled');
    expect(await t.orders.listNotifications('order-1')).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });

  it('dead-letters an event for an unknown order, sending nothing', async () => {
    const error = await invokeEvent(notifyPaymentFailed, paymentFailed({ orderId: 'ghost' }), t.env).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NonRetriableError);
    expect(warnings).toHaveLength(0);
  });

  describe('through the webhook notifier and a local HTTP server', () => {
    let server: Server;
    const received: { key: string | undefined; body: unknown }[] = [];
    const statuses: number[] = [];

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        req.on('end', () => {
          received.push({
            key: req.headers['idempotency-key'] as string | undefined,
            body: JSON.parse(body),
          });
          res.writeHead(statuses.shift() ?? 204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
      ports = { notifier: createWebhookNotifier({ url, timeoutMs: 2_000 }) };
    });
    afterAll(async () => {
      ports = { notifier };
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('retries after a 503 with the same Idempotency-Key, then records the notification once', async () => {
      await seedOrder(t.orders);
      const event = paymentFailed();
      statuses.push(503);
      await expect(invokeEvent(notifyPaymentFailed, event, t.env)).rejects.toBeInstanceOf(RetryLaterError);
      expect(await invokeEvent(notifyPaymentFailed, event, t.env, { attempt: 2 })).toBe('handled');
      expect(await invokeEvent(notifyPaymentFailed, event, t.env)).toBe('duplicate');

      const [stored] = await t.orders.listNotifications('order-1');
      expect(stored?.channel).toBe('webhook');
      expect(received.map((r) => r.key)).toEqual([stored?.id, stored?.id]);
      expect(received[1]?.body).toMatchObject({ id: stored?.id, orderId: 'order-1', kind: 'payment-failed' });
    });
  });
});
