import { describe, expect, it } from 'vitest';
import { notificationId, paymentFailedNotification } from './decide.ts';

const failed = { orderId: 'o-1', amount: '300.01', currency: 'USD', reason: 'insufficient funds' };
const now = new Date('2026-01-01T00:00:00.000Z');

describe('paymentFailedNotification', () => {
  it('given a failed payment, then the notification names the order, amount and reason', () => {
    expect(paymentFailedNotification(failed, { channel: 'log', now })).toEqual({
      id: notificationId('o-1', 'payment-failed'),
      orderId: 'o-1',
      kind: 'payment-failed',
      channel: 'log',
      message: 'Payment of 300.01 USD for order o-1 failed: insufficient funds',
      createdAt: now,
    });
  });
});

describe('notificationId', () => {
  it('is a UUID, the same for the same order and kind, different for another order', () => {
    const id = notificationId('o-1', 'payment-failed');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(notificationId('o-1', 'payment-failed')).toBe(id);
    expect(notificationId('o-2', 'payment-failed')).not.toBe(id);
  });
});
