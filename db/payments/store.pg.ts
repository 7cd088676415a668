/**
 * The payments service store over PostgreSQL/PGlite. One payment per order: `insertPayment` is
 * `INSERT … ON CONFLICT (order_id) DO NOTHING RETURNING`, then reads the payment that won.
 * @module
 */
import { eq, inArray } from 'drizzle-orm';
import { BATCHED, type BatchedMethods } from '../../runtime/store.ts';
import { foundByKey, insertedOrFound } from '../postgres/batched.ts';
import type { PgDatabase } from '../postgres/connect.ts';
import { createPostgresStore, type PostgresStore } from '../postgres/store-base.ts';
import type { Payment, PaymentsRepo } from './repo.ts';
import { payments, paymentsAttempts, paymentsInbox, paymentsOutbox } from './schema.pg.ts';

/** Builds the payments repository over a database or a transaction. */
export function paymentsRepo(db: PgDatabase): PaymentsRepo {
  const findPaymentByOrder = async (orderId: string): Promise<Payment | undefined> => {
    const [row] = await db.select().from(payments).where(eq(payments.orderId, orderId));
    return row;
  };
  /** Payments in one statement, each answered as one `insertPayment` after another would be (the single form too). */
  const insertPayments = async (batch: readonly Payment[]) =>
    (
      await insertedOrFound(batch, {
        what: 'payment for order',
        keyOf: (payment) => payment.orderId,
        rowKey: (row: Payment) => row.orderId,
        insert: (batch) =>
          db
            .insert(payments)
            .values([...batch])
            .onConflictDoNothing({ target: payments.orderId })
            .returning(),
        find: (orderIds) =>
          db
            .select()
            .from(payments)
            .where(inArray(payments.orderId, [...orderIds])),
      })
    ).map(({ created, row }) => ({ created, payment: row }));
  return {
    // One statement for the payments (and the `prepare` lookups) of a `by-key` consumer batch (see `BATCHED`).
    [BATCHED]: {
      insertPayment: (calls) => insertPayments(calls.map(([payment]) => payment as Payment)),
      findPaymentByOrder: (calls) =>
        foundByKey(
          calls.map(([orderId]) => orderId as string),
          (row: Payment) => row.orderId,
          (orderIds) =>
            db
              .select()
              .from(payments)
              .where(inArray(payments.orderId, [...orderIds])),
        ),
    } satisfies BatchedMethods,
    insertPayment: async (payment) => (await insertPayments([payment]))[0]!,
    findPaymentByOrder,
  };
}

/**
 * The payments store. Pass `close` to let `store.close()` close the connection it runs on.
 * @example
 * const store = createPaymentsStore(conn.db);
 * await migrate(store);
 */
export function createPaymentsStore(
  db: PgDatabase,
  options: { close?: () => Promise<void> } = {},
): PostgresStore<PaymentsRepo> {
  return createPostgresStore({
    service: 'payments',
    db,
    tables: { outbox: paymentsOutbox, inbox: paymentsInbox, attempts: paymentsAttempts },
    createRepo: paymentsRepo,
    ...options,
  });
}
