/**
 * The pure part of process-payment: from a charge result to the payment row and the event to emit.
 * @module
 */
import type { PaymentCompleted, PaymentFailed } from '../../contracts/events.ts';
import { formatAmount } from '../../contracts/money.ts';
import type { Payment } from '../../db/payments/repo.ts';
import type { EventData } from '../../runtime/index.ts';
import type { ChargeRequest, ChargeResult } from './provider.ts';

export type PaymentOutcomeEvent =
  | { type: 'PaymentCompleted'; data: EventData<typeof PaymentCompleted> }
  | { type: 'PaymentFailed'; data: EventData<typeof PaymentFailed> };

export interface PaymentDecision {
  payment: Payment;
  event: PaymentOutcomeEvent;
}

/** Records what the provider said: one payment row, and PaymentCompleted or PaymentFailed (with the reason). */
export function decidePayment(
  request: ChargeRequest,
  result: ChargeResult,
  context: { paymentId: string; now: Date },
): PaymentDecision {
  const common = { orderId: request.orderId, paymentId: context.paymentId };
  const money = { amount: formatAmount(request.amountMinor, request.currency), currency: request.currency };
  const payment: Payment = {
    id: context.paymentId,
    orderId: request.orderId,
    amountMinor: request.amountMinor,
    currency: request.currency,
    status: result.status,
    failureReason: result.status === 'FAILED' ? result.reason : null,
    providerRef: result.status === 'COMPLETED' ? result.providerRef : null,
    createdAt: context.now,
  };
  const event: PaymentOutcomeEvent =
    result.status === 'COMPLETED'
      ? { type: 'PaymentCompleted', data: { ...common, ...money } }
      : { type: 'PaymentFailed', data: { ...common, ...money, reason: result.reason } };
  return { payment, event };
}
