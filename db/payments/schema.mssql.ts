/**
 * SQL Server schema of the payments service, in the `[payments]` schema (mirrors `schema.pg.ts`).
 * Migrations: `db/migrations/mssql/payments` (`npm run db:generate:mssql`).
 * @module
 */
import { check, mssqlSchema, nvarchar } from 'drizzle-orm/mssql-core';
import {
  amountMinor,
  code,
  createdAt,
  currency,
  currencyCode,
  oneOf,
  orderIdColumn,
  positive,
  uniqueidentifier,
} from '../mssql/columns.ts';
import { attemptsTable, inboxTable, outboxTable } from '../mssql/messaging-schema.ts';
import type { PaymentOutcome } from './repo.ts';

export const paymentsSchema = mssqlSchema('payments');

export const PAYMENT_OUTCOMES = ['COMPLETED', 'FAILED'] as const satisfies readonly PaymentOutcome[];

export const payments = paymentsSchema.table(
  'payments',
  {
    id: uniqueidentifier('id').primaryKey(),
    orderId: orderIdColumn('order_id').unique('payments_order_id_key'),
    amountMinor: amountMinor(),
    currency: currency(),
    status: code('status', 16).$type<PaymentOutcome>().notNull(),
    failureReason: nvarchar('failure_reason', { length: 'max' }),
    providerRef: nvarchar('provider_ref', { length: 255 }),
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
