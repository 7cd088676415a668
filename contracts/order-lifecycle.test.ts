import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterPaymentCompleted,
  afterPaymentFailed,
  afterShipped,
  canMoveStatus,
  isForward,
  type OrderState,
  type Transition,
} from './order-lifecycle.ts';
import { ORDER_STATUSES, PAYMENT_STATUSES } from './orders.ts';

const state = (overrides: Partial<OrderState> = {}): OrderState => ({
  status: 'PENDING',
  paymentStatus: 'NOT_PAID',
  failureReason: null,
  ...overrides,
});

const pending = state();
const confirmed = state({ status: 'CONFIRMED', paymentStatus: 'PAID' });
const shipped = state({ status: 'SHIPPED', paymentStatus: 'PAID' });
const cancelled = state({
  status: 'CANCELLED',
  paymentStatus: 'FAILED',
  failureReason: 'insufficient funds',
});

describe('afterPaymentCompleted', () => {
  it('given a pending order, when the payment completes, then it is CONFIRMED and PAID', () => {
    expect(afterPaymentCompleted(pending)).toEqual({ changed: true, next: confirmed });
  });

  it('given a shipped order not yet marked paid, when the payment completes, then it stays SHIPPED and becomes PAID', () => {
    const next = afterPaymentCompleted(state({ status: 'SHIPPED' }));
    expect(next).toEqual({ changed: true, next: shipped });
  });

  it.each([
    ['a confirmed order', confirmed, 'duplicate'],
    ['a shipped order', shipped, 'stale'],
    ['a cancelled order', cancelled, 'conflict'],
  ] as const)('given %s, when the payment completes, then nothing changes (%s)', (_, given, reason) => {
    expect(afterPaymentCompleted(given)).toMatchObject({ changed: false, reason });
  });
});

describe('afterPaymentFailed', () => {
  it('given a pending order, when the payment fails, then it is CANCELLED and FAILED with the reason', () => {
    expect(afterPaymentFailed(pending, 'insufficient funds')).toEqual({ changed: true, next: cancelled });
  });

  it.each([
    ['a cancelled order', cancelled, 'duplicate'],
    ['a confirmed order', confirmed, 'conflict'],
    ['a shipped order', shipped, 'conflict'],
  ] as const)('given %s, when the payment fails, then nothing changes (%s)', (_, given, reason) => {
    expect(afterPaymentFailed(given, 'insufficient funds')).toMatchObject({ changed: false, reason });
  });
});

describe('afterShipped', () => {
  it.each([
    ['a pending order', pending],
    ['a confirmed order', confirmed],
  ])('given %s, when it ships, then it is SHIPPED and PAID', (_, given) => {
    expect(afterShipped(given)).toEqual({ changed: true, next: shipped });
  });

  it.each([
    ['a shipped order', shipped, 'duplicate'],
    ['a cancelled order', cancelled, 'conflict'],
  ] as const)('given %s, when it ships, then nothing changes (%s)', (_, given, reason) => {
    expect(afterShipped(given)).toMatchObject({ changed: false, reason });
  });
});

describe('forward-only moves', () => {
  it.each([
    ['PENDING', 'CONFIRMED', true],
    ['PENDING', 'SHIPPED', true],
    ['PENDING', 'CANCELLED', true],
    ['CONFIRMED', 'SHIPPED', true],
    ['CONFIRMED', 'PENDING', false],
    ['SHIPPED', 'CONFIRMED', false],
    ['CONFIRMED', 'CANCELLED', false],
    ['CANCELLED', 'PENDING', false],
    ['SHIPPED', 'SHIPPED', false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canMoveStatus(from, to)).toBe(allowed);
  });

  type Fact = 'completed' | 'failed' | 'shipped';
  const apply = (s: OrderState, fact: Fact): Transition =>
    fact === 'completed'
      ? afterPaymentCompleted(s)
      : fact === 'failed'
        ? afterPaymentFailed(s, 'declined')
        : afterShipped(s);
  const run = (facts: readonly Fact[], from: OrderState = pending): OrderState =>
    facts.reduce((s, fact) => {
      const t = apply(s, fact);
      return t.changed ? t.next : s;
    }, from);

  const anyState: fc.Arbitrary<OrderState> = fc.record({
    status: fc.constantFrom(...ORDER_STATUSES),
    paymentStatus: fc.constantFrom(...PAYMENT_STATUSES),
    failureReason: fc.constantFrom(null, 'declined'),
  });
  const facts = fc.array(fc.constantFrom<Fact>('completed', 'failed', 'shipped'), { maxLength: 8 });

  it('given any state and any sequence of facts, then every step moves forward', () => {
    fc.assert(
      fc.property(anyState, facts, (start, sequence) => {
        let current = start;
        for (const fact of sequence) {
          const t = apply(current, fact);
          if (t.changed) {
            expect(isForward(current, t.next)).toBe(true);
            current = t.next;
          }
        }
      }),
    );
  });

  it('given a pending order, when completed and shipped arrive in any order and any number of times, then it ends SHIPPED/PAID', () => {
    const successFacts = fc.array(fc.constantFrom<Fact>('completed', 'shipped'), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(successFacts, (sequence) => {
        fc.pre(sequence.includes('shipped'));
        expect(run(sequence)).toEqual(shipped);
      }),
    );
  });
});
