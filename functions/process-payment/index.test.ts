import { describe, expect, it } from 'vitest';
import { PaymentCompleted, PaymentFailed } from '../../contracts/events.ts';
import { NonRetriableError } from '../../runtime/index.ts';
import { invokeEvent } from '../../runtime/testing/index.ts';
import { paymentRequested } from '../__fixtures__/factories.ts';
import { outboxEvents, setupFunctionTest } from '../__fixtures__/setup.ts';
import { processPayment } from './index.ts';
import { type ChargeRequest, createSimulatedProvider, type PaymentProvider } from './provider.ts';

/** The simulated provider, recording what it was asked to charge. */
const charges: ChargeRequest[] = [];
const recordingProvider = (inner: PaymentProvider): PaymentProvider => ({
  charge: (request) => {
    charges.push(request);
    return inner.charge(request);
  },
});

const t = setupFunctionTest({
  ports: () => {
    charges.length = 0;
    return { paymentProvider: recordingProvider(createSimulatedProvider({ limit: '300' })) };
  },
});
const outcomes = () => outboxEvents(t.db.payments, [PaymentCompleted, PaymentFailed]);

describe('process-payment', () => {
  it.each([
    ['300.00', 'USD', 30000n],
    ['0.01', 'USD', 1n],
    ['300', 'JPY', 300n],
    ['300.000', 'KWD', 300000n],
  ])(
    'given %s %s (within the limit), then one COMPLETED payment and PaymentCompleted',
    async (amount, currency, minor) => {
      await invokeEvent(processPayment, paymentRequested({ amount, currency }), t.env);

      const payment = await t.payments.findPaymentByOrder('order-1');
      expect(payment).toMatchObject({
        orderId: 'order-1',
        amountMinor: minor,
        currency,
        status: 'COMPLETED',
        failureReason: null,
      });
      expect(payment?.providerRef).toMatch(/^sim_/);
      const events = await outcomes();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'PaymentCompleted',
        key: 'order-1',
        data: { orderId: 'order-1', paymentId: payment?.id, amount, currency },
      });
    },
  );

  it.each([
    ['300.01', 'USD', 30001n],
    ['301', 'JPY', 301n],
    ['300.001', 'KWD', 300001n],
  ])(
    'given %s %s (over the limit), then one FAILED payment and PaymentFailed with "insufficient funds"',
    async (amount, currency, minor) => {
      await invokeEvent(processPayment, paymentRequested({ amount, currency }), t.env);

      expect(await t.payments.findPaymentByOrder('order-1')).toMatchObject({
        amountMinor: minor,
        status: 'FAILED',
        failureReason: 'insufficient funds',
        providerRef: null,
      });
      const events = await outcomes();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'PaymentFailed',
        data: { orderId: 'order-1', amount, currency, reason: 'insufficient funds' },
      });
    },
  );

  it('charges in exact minor units', async () => {
    await invokeEvent(processPayment, paymentRequested({ amount: '300.01', currency: 'USD' }), t.env);
    expect(charges).toEqual([{ orderId: 'order-1', amountMinor: 30001n, currency: 'USD' }]);
  });

  it('delivered twice: charges once, one payment, one event', async () => {
    const event = paymentRequested();
    expect(await invokeEvent(processPayment, event, t.env)).toBe('handled');
    expect(await invokeEvent(processPayment, event, t.env)).toBe('duplicate');

    expect(charges).toHaveLength(1);
    expect(await outcomes()).toHaveLength(1);
  });

  it('a second request for the same order (another event id) does nothing: one payment per order', async () => {
    await invokeEvent(processPayment, paymentRequested({ amount: '10.00' }), t.env);
    await invokeEvent(processPayment, paymentRequested({ amount: '10.00' }), t.env);

    expect(charges).toHaveLength(1);
    expect(await outcomes()).toHaveLength(1);
  });

  it('rejects a request whose amount does not fit its currency, without charging', async () => {
    const error = await invokeEvent(
      processPayment,
      paymentRequested({ amount: '1.5', currency: 'JPY' }),
      t.env,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toMatch(/invalid amount "1.5 JPY": too precise/);
    expect(charges).toHaveLength(0);
    expect(await t.payments.findPaymentByOrder('order-1')).toBeUndefined();
    expect(await t.db.payments.outbox.pendingCount()).toBe(0);
  });
});
