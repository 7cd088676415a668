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
  description: 'Records and sends one payment-failed notification per order',
  handler: async ({ event, deps }) => {
    const { orderId } = event.data;
    if ((await deps.db.findOrder(orderId)) === undefined) {
      throw new NonRetriableError(`Order ${orderId} not found for ${event.type}`);
    }
    const { notifier } = deps.ports;
    const notification = paymentFailedNotification(event.data, {
      channel: notifier.channel,
      now: deps.clock(),
    });
    if (!(await deps.db.insertNotification(notification))) {
      deps.log.info({ orderId, notificationId: notification.id }, 'payment-failed notification already sent');
      return;
    }
    // Sent inside the transaction: if sending fails, the notification row rolls back and the retry sends again.
    await notifier.send(notification);
    deps.log.info(
      { orderId, notificationId: notification.id, channel: notifier.channel },
      'payment-failed notification sent',
    );
  },
});
