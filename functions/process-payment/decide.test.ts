import { describe, expect, it } from 'vitest';
import { decidePayment } from './decide.ts';
import type { ChargeRequest } from './provider.ts';

const request = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  orderId: 'o-1',
  amountMinor: 5000n,
  currency: 'USD',
  ...overrides,
});
const context = { paymentId: 'p-1', now: new Date('2026-01-01T00:00:00.000Z') };

describe('decidePayment', () => {
  it('given a completed charge, then the payment is COMPLETED with the provider reference and PaymentCompleted follows', () => {
    const decision = decidePayment(request(), { status: 'COMPLETED', providerRef: 'sim_1' }, context);
    expect(decision.payment).toEqual({
      id: 'p-1',
      orderId: 'o-1',
      amountMinor: 5000n,
      currency: 'USD',
      status: 'COMPLETED',
      failureReason: null,
      providerRef: 'sim_1',
      createdAt: context.now,
    });
    expect(decision.event).toEqual({
      type: 'PaymentCompleted',
      data: { orderId: 'o-1', paymentId: 'p-1', amount: '50.00', currency: 'USD' },
    });
  });

  it('given a failed charge, then the payment is FAILED with the reason and PaymentFailed carries it', () => {
    const decision = decidePayment(
      request({ amountMinor: 30001n }),
      { status: 'FAILED', reason: 'insufficient funds' },
      context,
    );
    expect(decision.payment).toMatchObject({
      status: 'FAILED',
      failureReason: 'insufficient funds',
      providerRef: null,
    });
    expect(decision.event).toEqual({
      type: 'PaymentFailed',
      data: {
        orderId: 'o-1',
        paymentId: 'p-1',
        amount: '300.01',
        currency: 'USD',
        reason: 'insufficient funds',
      },
    });
  });

  it.each([
    ['JPY', 300n, '300'],
    ['KWD', 300001n, '300.001'],
  ])(
    'given an amount in %s, then the event amount has the currency digits',
    (currency, amountMinor, amount) => {
      const decision = decidePayment(
        request({ currency, amountMinor }),
        { status: 'COMPLETED', providerRef: 'r' },
        context,
      );
      expect(decision.event.data.amount).toBe(amount);
    },
  );
});
