/**
 * PostgreSQL schema of the payments service, in the `payments` schema. Migrations:
 * `db/migrations/postgres/payments` (`npm run db:generate`).
 * @module
 */
import { check, pgSchema, text, uuid, varchar } from 'drizzle-orm/pg-core';
import {
  amountMinor,
  createdAt,
  currency,
  currencyCode,
  oneOf,
  orderIdColumn,
  positive,
} from '../postgres/columns.ts';
import { attemptsTable, inboxTable, outboxTable } from '../postgres/messaging-schema.ts';
import type { PaymentOutcome } from './repo.ts';

export const paymentsSchema = pgSchema('payments');

export const PAYMENT_OUTCOMES = ['COMPLETED', 'FAILED'] as const satisfies readonly PaymentOutcome[];

export const payments = paymentsSchema.table(
  'payments',
  {
    id: uuid('id').primaryKey(),
    orderId: orderIdColumn('order_id').unique(),
    amountMinor: amountMinor(),
    currency: currency(),
    status: varchar('status', { length: 16 }).$type<PaymentOutcome>().notNull(),
    failureReason: text('failure_reason'),
    providerRef: varchar('provider_ref', { length: 255 }),
    createdAt: createdAt(),
  },
  (t) => [
    check('payments_amount_positive', positive(t.amountMinor)),
    check('payments_currency_code', currencyCode(t.currency)),
    check('payments_status_values', oneOf(t.status, PAYMENT_OUTCOMES)),
  ],
);

export const paymentsOutbox = outboxTable(paymentsSchema);
export const paymentsInbox = inboxTable(paymentsSchema);
export const paymentsAttempts = attemptsTable(paymentsSchema);

export type PaymentRow = typeof payments.$inferSelect;

/** Every table of the service. */
export const paymentsTables = [payments, paymentsOutbox, paymentsInbox, paymentsAttempts] as const;
