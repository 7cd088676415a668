/**
 * process-payment: charges each requested payment once and reports the outcome.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { PaymentCompleted, PaymentFailed, PaymentRequested } from '../../contracts/events.ts';
import { parseAmount } from '../../contracts/money.ts';
import { paymentsStore } from '../../db/payments/repo.ts';
import { defineEventFunction, NonRetriableError } from '../../runtime/index.ts';
import { decidePayment } from './decide.ts';
import './provider.ts'; // declares the `paymentProvider` port

export const processPayment = defineEventFunction({
  id: 'process-payment',
  events: [PaymentRequested],
  groupId: 'payments',
  store: paymentsStore,
  description: 'Charges the payment provider once per order; emits PaymentCompleted or PaymentFailed',
  // Outside any transaction: the provider call never holds a database connection or lock. The order id is the
  // provider's idempotency key, so a retry after a crash between charge and record charges once.
  prepare: async ({ event, deps }) => {
    const { orderId, amount, currency } = event.data;
    const existing = await deps.db.findPaymentByOrder(orderId);
    if (existing !== undefined) return { kind: 'recorded' as const, paymentId: existing.id };
    const parsed = parseAmount(amount, currency);
    if (!parsed.ok) {
      throw new NonRetriableError(
        `PaymentRequested for order ${orderId} has an invalid amount "${amount} ${currency}": ${parsed.problem}`,
      );
    }
    const request = { orderId, amountMinor: parsed.minor, currency };
    const result = await deps.ports.paymentProvider.charge(request);
    return { kind: 'charged' as const, request, result };
  },
  // Touches only the rows of its own order (the message key): a batch's orders run together (runtime/invoke.ts).
  batchItems: 'by-key',
  // In the transaction: the payment row, its event (outbox) and the inbox record commit together.
  handler: async ({ event, deps, prepared }) => {
    const { orderId } = event.data;
    if (prepared.kind === 'recorded') {
      deps.log.info(
        { orderId, paymentId: prepared.paymentId },
        'order already has a payment; request ignored',
      );
      return;
    }
    const decision = decidePayment(prepared.request, prepared.result, {
      paymentId: randomUUID(),
      now: deps.clock(),
    });
    const { created, payment } = await deps.db.insertPayment(decision.payment);
    if (!created) {
      deps.log.info({ orderId, paymentId: payment.id }, 'a concurrent delivery recorded the payment first');
      return;
    }
    const time = { time: decision.payment.createdAt };
    deps.emit(
      decision.event.type === 'PaymentCompleted'
        ? PaymentCompleted.create(decision.event.data, time)
        : PaymentFailed.create(decision.event.data, time),
    );
    deps.log.info({ orderId, paymentId: payment.id, status: payment.status }, 'payment processed');
  },
});
