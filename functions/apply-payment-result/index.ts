/**
 * apply-payment-result: records a payment's outcome on its order (status and payment status).
 * @module
 */
import { PaymentCompleted, PaymentFailed } from '../../contracts/events.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { defineEventFunction, NonRetriableError, RetryLaterError } from '../../runtime/index.ts';
import { decidePaymentResult } from './decide.ts';

export const applyPaymentResult = defineEventFunction({
  id: 'apply-payment-result',
  events: [PaymentCompleted, PaymentFailed],
  groupId: 'orders',
  store: ordersStore,
  description: 'Moves the order to CONFIRMED/PAID or CANCELLED/FAILED; forward only',
  // Touches only the rows of its own order (the message key): a batch's orders run together (runtime/invoke.ts).
  batchItems: 'by-key',
  handler: async ({ event, deps }) => {
    const { orderId } = event.data;
    const order = await deps.db.lockOrder(orderId);
    if (order === undefined) throw new NonRetriableError(`Order ${orderId} not found for ${event.type}`);

    const result =
      event.type === 'PaymentFailed' ? { type: event.type, reason: event.data.reason } : { type: event.type };
    const transition = decidePaymentResult(order, result);
    if (!transition.changed) {
      // A payment outcome that contradicts the order (e.g. success for a cancelled order) needs a human: dead-letter it.
      if (transition.reason === 'conflict') {
        throw new NonRetriableError(
          `${event.type} for order ${orderId} conflicts with it: ${transition.detail}`,
        );
      }
      deps.log.info({ orderId, eventType: event.type, reason: transition.reason }, transition.detail);
      return;
    }

    const expected = { status: order.status, paymentStatus: order.paymentStatus };
    const updated = await deps.db.updateOrder(orderId, expected, {
      ...transition.next,
      updatedAt: deps.clock(),
    });
    if (!updated)
      throw new RetryLaterError(`Order ${orderId} changed while applying ${event.type}; retrying`);
    deps.log.info({ orderId, ...transition.next }, 'payment result applied');
  },
});
