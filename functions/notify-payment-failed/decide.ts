/**
 * The pure part of notify-payment-failed: the notification a failed payment produces.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Notification } from '../../db/orders/repo.ts';

export interface FailedPayment {
  orderId: string;
  amount: string;
  currency: string;
  reason: string;
}

/**
 * A stable id per (order, kind), shaped as a UUID (version 8, name-based): a retried send carries the same
 * id, and so the same webhook `Idempotency-Key`.
 */
export function notificationId(orderId: string, kind: Notification['kind']): string {
  const hex = createHash('sha256').update(`${kind}\u0000${orderId}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The notification that tells someone an order's payment failed, and why. */
export function paymentFailedNotification(
  payment: FailedPayment,
  context: { channel: string; now: Date },
): Notification {
  return {
    id: notificationId(payment.orderId, 'payment-failed'),
    orderId: payment.orderId,
    kind: 'payment-failed',
    channel: context.channel,
    message: `Payment of ${payment.amount} ${payment.currency} for order ${payment.orderId} failed: ${payment.reason}`,
    createdAt: context.now,
  };
}
