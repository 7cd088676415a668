/**
 * ship-order: hands a paid order to the carrier and announces it.
 * @module
 */
import { OrderShipped, PaymentCompleted } from '../../contracts/events.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { defineEventFunction, NonRetriableError, RetryLaterError } from '../../runtime/index.ts';
import { decideShipment } from './decide.ts';
import { CARRIER, newTrackingId } from './tracking.ts';

export const shipOrder = defineEventFunction({
  id: 'ship-order',
  events: [PaymentCompleted],
  groupId: 'shipping',
  store: ordersStore,
  description: 'Records a shipment for a paid order, moves it to SHIPPED and emits OrderShipped',
  // Touches only the rows of its own order (the message key): a batch's orders run together (runtime/invoke.ts).
  batchItems: 'by-key',
  handler: async ({ event, deps }) => {
    const { orderId } = event.data;
    const order = await deps.db.lockOrder(orderId);
    if (order === undefined) throw new NonRetriableError(`Order ${orderId} not found for ${event.type}`);

    const existing = await deps.db.findShipment(orderId);
    const now = deps.clock();
    const decision = decideShipment(order, existing, {
      orderId,
      trackingId: newTrackingId(),
      carrier: CARRIER,
      shippedAt: now,
    });
    if (decision.kind === 'skip') {
      const level = decision.reason === 'conflict' ? 'warn' : 'info';
      deps.log[level]({ orderId, reason: decision.reason }, `not shipping: ${decision.detail}`);
      return;
    }

    // The order is locked, so only a store that breaks its lock could make either write lose.
    if (!(await deps.db.insertShipment(decision.shipment))) {
      throw new RetryLaterError(`Order ${orderId} got a shipment concurrently; retrying`);
    }
    const expected = { status: order.status, paymentStatus: order.paymentStatus };
    if (!(await deps.db.updateOrder(orderId, expected, { ...decision.next, updatedAt: now }))) {
      throw new RetryLaterError(`Order ${orderId} changed while shipping; retrying`);
    }
    const { trackingId, carrier } = decision.shipment;
    deps.emit(OrderShipped.create({ orderId, trackingId, carrier }, { time: now }));
    deps.log.info({ orderId, trackingId, carrier }, 'order shipped');
  },
});
