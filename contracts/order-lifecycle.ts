/**
 * The order's forward-only state rules, shared by every function that changes an order.
 *
 * `status`: PENDING → CONFIRMED → SHIPPED, or PENDING → CANCELLED (PENDING → SHIPPED directly when
 * shipping sees the payment before apply-payment-result does). `paymentStatus`: NOT_PAID → PAID or FAILED.
 * Each rule is a pure function from the current state and one fact to either the next state or a reason
 * to leave the order alone; a late, repeated or out-of-order fact never moves an order back.
 * @module
 */
import type { OrderStatus, PaymentStatus } from './orders.ts';

/** The part of an order the lifecycle rules read and write. */
export interface OrderState {
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  failureReason: string | null;
}

/**
 * Why a fact leaves the order unchanged:
 * - `duplicate`: the order already reflects this fact (redelivery).
 * - `stale`: the order has moved past what this fact would do (late or out-of-order event).
 * - `conflict`: the fact contradicts the order (e.g. a payment success for a cancelled order).
 */
export type IgnoreReason = 'duplicate' | 'stale' | 'conflict';

export type Transition =
  | { changed: true; next: OrderState }
  | { changed: false; reason: IgnoreReason; detail: string };

const STATUS_NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['CONFIRMED', 'SHIPPED', 'CANCELLED'],
  CONFIRMED: ['SHIPPED'],
  SHIPPED: [],
  CANCELLED: [],
};

const PAYMENT_NEXT: Record<PaymentStatus, readonly PaymentStatus[]> = {
  NOT_PAID: ['PAID', 'FAILED'],
  PAID: [],
  FAILED: [],
};

/** True when `from → to` is a forward move of the order status (staying put is not a move). */
export function canMoveStatus(from: OrderStatus, to: OrderStatus): boolean {
  return STATUS_NEXT[from].includes(to);
}

/** True when `from → to` is a forward move of the payment status. */
export function canMovePaymentStatus(from: PaymentStatus, to: PaymentStatus): boolean {
  return PAYMENT_NEXT[from].includes(to);
}

/** True when `to` is `from` or reachable from it: what every write to an order must satisfy. */
export function isForward(from: OrderState, to: OrderState): boolean {
  const statusOk = from.status === to.status || canMoveStatus(from.status, to.status);
  const paymentOk =
    from.paymentStatus === to.paymentStatus || canMovePaymentStatus(from.paymentStatus, to.paymentStatus);
  return statusOk && paymentOk;
}

function ignore(reason: IgnoreReason, detail: string): Transition {
  return { changed: false, reason, detail };
}

/**
 * The payment succeeded: PENDING becomes CONFIRMED and NOT_PAID becomes PAID. An order already shipped
 * keeps SHIPPED but still records PAID if it had not.
 */
export function afterPaymentCompleted(state: OrderState): Transition {
  if (state.status === 'CANCELLED' || state.paymentStatus === 'FAILED') {
    return ignore('conflict', `payment completed but the order is ${state.status}/${state.paymentStatus}`);
  }
  const next: OrderState = {
    status: state.status === 'PENDING' ? 'CONFIRMED' : state.status,
    paymentStatus: 'PAID',
    failureReason: state.failureReason,
  };
  if (next.status === state.status && next.paymentStatus === state.paymentStatus) {
    return ignore(
      state.status === 'CONFIRMED' ? 'duplicate' : 'stale',
      `order is already ${state.status}/PAID`,
    );
  }
  return { changed: true, next };
}

/** The payment failed: PENDING/NOT_PAID becomes CANCELLED/FAILED with the reason. */
export function afterPaymentFailed(state: OrderState, reason: string): Transition {
  if (state.status === 'CANCELLED' && state.paymentStatus === 'FAILED') {
    return ignore('duplicate', 'order is already CANCELLED/FAILED');
  }
  if (state.status !== 'PENDING' || state.paymentStatus !== 'NOT_PAID') {
    return ignore('conflict', `payment failed but the order is ${state.status}/${state.paymentStatus}`);
  }
  return { changed: true, next: { status: 'CANCELLED', paymentStatus: 'FAILED', failureReason: reason } };
}

/**
 * The order was handed to the carrier. Only a paid (or being-paid) order ships: PENDING or CONFIRMED
 * becomes SHIPPED, and NOT_PAID becomes PAID because shipping is triggered by the payment's success.
 * A cancelled order never ships.
 */
export function afterShipped(state: OrderState): Transition {
  if (state.status === 'SHIPPED') return ignore('duplicate', 'order is already SHIPPED');
  if (state.status === 'CANCELLED' || state.paymentStatus === 'FAILED') {
    return ignore('conflict', `a ${state.status}/${state.paymentStatus} order cannot ship`);
  }
  return {
    changed: true,
    next: { status: 'SHIPPED', paymentStatus: 'PAID', failureReason: state.failureReason },
  };
}
