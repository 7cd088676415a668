import { describe, expect, it } from 'vitest';
import { type OrderViewSource, orderViewSchema, toOrderView } from './order-view.ts';

const order = (overrides: Partial<OrderViewSource> = {}): OrderViewSource => ({
  id: 'order-1',
  amountMinor: 5000n,
  currency: 'USD',
  status: 'PENDING',
  paymentStatus: 'NOT_PAID',
  failureReason: null,
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
  updatedAt: new Date('2026-01-02T03:04:06.000Z'),
  ...overrides,
});

describe('toOrderView', () => {
  it('given a new order, then the view has the decimal amount and no optional fields', () => {
    const view = toOrderView(order());
    expect(view).toEqual({
      orderId: 'order-1',
      totalAmount: '50.00',
      currency: 'USD',
      status: 'PENDING',
      paymentStatus: 'NOT_PAID',
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:04:06.000Z',
    });
    expect(orderViewSchema.parse(view)).toEqual(view);
  });

  it.each([
    ['JPY', 5000n, '5000'],
    ['KWD', 5000n, '5.000'],
    ['USD', 1n, '0.01'],
  ])('given an amount in %s, then totalAmount has the currency digits', (currency, amountMinor, text) => {
    expect(toOrderView(order({ currency, amountMinor })).totalAmount).toBe(text);
  });

  it('given a cancelled order, then the view carries the failure reason', () => {
    const view = toOrderView(
      order({ status: 'CANCELLED', paymentStatus: 'FAILED', failureReason: 'insufficient funds' }),
    );
    expect(view.failureReason).toBe('insufficient funds');
  });

  it('given a shipment, then the view carries it with an ISO time', () => {
    const shippedAt = new Date('2026-01-03T00:00:00.000Z');
    const view = toOrderView(order({ status: 'SHIPPED', paymentStatus: 'PAID' }), {
      trackingId: 'TRK-ABCDEF123456',
      carrier: 'SIM-POST',
      shippedAt,
    });
    expect(view.shipment).toEqual({
      trackingId: 'TRK-ABCDEF123456',
      carrier: 'SIM-POST',
      shippedAt: shippedAt.toISOString(),
    });
    expect(orderViewSchema.parse(view)).toEqual(view);
  });
});
