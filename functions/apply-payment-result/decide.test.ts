import { describe, expect, it } from 'vitest';
import type { OrderState } from '../../contracts/order-lifecycle.ts';
import { decidePaymentResult } from './decide.ts';

const order = (overrides: Partial<OrderState> = {}): OrderState => ({
  status: 'PENDING',
  paymentStatus: 'NOT_PAID',
  failureReason: null,
  ...overrides,
});
const completed = { type: 'PaymentCompleted' } as const;
const failed = { type: 'PaymentFailed', reason: 'insufficient funds' } as const;

describe('decidePaymentResult', () => {
  it('given a pending order, when the payment completed, then it becomes CONFIRMED/PAID', () => {
    expect(decidePaymentResult(order(), completed)).toEqual({
      changed: true,
      next: { status: 'CONFIRMED', paymentStatus: 'PAID', failureReason: null },
    });
  });

  it('given a pending order, when the payment failed, then it becomes CANCELLED/FAILED with the reason', () => {
    expect(decidePaymentResult(order(), failed)).toEqual({
      changed: true,
      next: { status: 'CANCELLED', paymentStatus: 'FAILED', failureReason: 'insufficient funds' },
    });
  });

  it('given an order shipped before the payment was applied, when the payment completed, then it stays SHIPPED and becomes PAID', () => {
    expect(decidePaymentResult(order({ status: 'SHIPPED' }), completed)).toEqual({
      changed: true,
      next: { status: 'SHIPPED', paymentStatus: 'PAID', failureReason: null },
    });
  });

  it.each([
    ['CONFIRMED', 'PAID', completed, 'duplicate'],
    ['SHIPPED', 'PAID', completed, 'stale'],
    ['CANCELLED', 'FAILED', failed, 'duplicate'],
    ['CANCELLED', 'FAILED', completed, 'conflict'],
    ['CONFIRMED', 'PAID', failed, 'conflict'],
    ['SHIPPED', 'PAID', failed, 'conflict'],
  ] as const)(
    'given a %s/%s order, when %o arrives, then nothing changes (%s)',
    (status, paymentStatus, result, reason) => {
      expect(decidePaymentResult(order({ status, paymentStatus }), result)).toMatchObject({
        changed: false,
        reason,
      });
    },
  );
});
