/**
 * notify-payment-failed: tells someone, once per order, that its payment failed.
 * @module
 */
import { PaymentFailed } from '../../contracts/events.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { defineEventFunction, NonRetriableError } from '../../runtime/index.ts';
import { paymentFailedNotification } from './decide.ts';
import './notifier.ts'; // declares the `notifier` port

export const notifyPaymentFailed = defineEventFunction({
  id: 'notify-payment-failed',
  events: [PaymentFailed],
  groupId: 'notifications',
  store: ordersStore,
  description: 'Sends and records one payment-failed notification per order',
  // Outside any transaction: the webhook call never holds a database connection or lock. The notification id is
  // stable per order (the webhook's Idempotency-Key), so a send repeated after a crash is one to the receiver.
  prepare: async ({ event, deps }) => {
    const { orderId } = event.data;
    if ((await deps.db.findOrder(orderId)) === undefined) {
      throw new NonRetriableError(`Order ${orderId} not found for ${event.type}`);
    }
    const { notifier } = deps.ports;
    const notification = paymentFailedNotification(event.data, {
      channel: notifier.channel,
      now: deps.clock(),
    });
    const sentBefore = (await deps.db.listNotifications(orderId)).some((n) => n.kind === notification.kind);
    if (!sentBefore) await notifier.send(notification);
    return { notification, sentBefore };
  },
  // In the transaction: the record of the sent notification and the inbox row.
  handler: async ({ deps, prepared }) => {
    const { notification } = prepared;
    const log = { orderId: notification.orderId, notificationId: notification.id };
    if (prepared.sentBefore || !(await deps.db.insertNotification(notification))) {
      deps.log.info(log, 'payment-failed notification already sent');
      return;
    }
    deps.log.info({ ...log, channel: notification.channel }, 'payment-failed notification sent');
  },
});
