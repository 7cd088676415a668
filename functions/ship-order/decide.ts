/**
 * The pure decision of ship-order: whether a paid order gets a shipment, and the order's next state.
 * @module
 */
import { afterShipped, type IgnoreReason, type OrderState } from '../../contracts/order-lifecycle.ts';

export interface ShipmentProposal {
  orderId: string;
  trackingId: string;
  carrier: string;
  shippedAt: Date;
}

export type ShipmentDecision =
  | { kind: 'ship'; shipment: ShipmentProposal; next: OrderState }
  | { kind: 'skip'; reason: IgnoreReason; detail: string };

/**
 * Ships an order at most once, and never a cancelled one. Shipping moves PENDING or CONFIRMED to SHIPPED and
 * NOT_PAID to PAID: the payment's success is what triggers it, whichever consumer sees it first.
 */
export function decideShipment(
  order: OrderState,
  existing: { trackingId: string } | undefined,
  proposal: ShipmentProposal,
): ShipmentDecision {
  if (existing !== undefined) {
    return { kind: 'skip', reason: 'duplicate', detail: `already shipped as ${existing.trackingId}` };
  }
  const transition = afterShipped(order);
  if (!transition.changed) return { kind: 'skip', reason: transition.reason, detail: transition.detail };
  return { kind: 'ship', shipment: proposal, next: transition.next };
}
