/**
 * The pure decision of apply-payment-result: a payment outcome applied to the order's current state,
 * by the forward-only rules of `contracts/order-lifecycle.ts`.
 * @module
 */
import {
  afterPaymentCompleted,
  afterPaymentFailed,
  type OrderState,
  type Transition,
} from '../../contracts/order-lifecycle.ts';

export type PaymentResult = { type: 'PaymentCompleted' } | { type: 'PaymentFailed'; reason: string };

/** Completed → CONFIRMED/PAID; Failed → CANCELLED/FAILED with the reason; never backwards. */
export function decidePaymentResult(order: OrderState, result: PaymentResult): Transition {
  return result.type === 'PaymentCompleted'
    ? afterPaymentCompleted(order)
    : afterPaymentFailed(order, result.reason);
}
