/**
 * The payments service store over SQL Server. One payment per order: `insertPayment` is insert-or-nothing
 * on `order_id`, then reads the payment that won.
 * @module
 */
import type { MssqlDatabase, MssqlDb } from '../mssql/connect.ts';
import { createMssqlStore, type MssqlStore, mustExist } from '../mssql/store-base.ts';
import type { Payment, PaymentsRepo } from './repo.ts';
import { paymentsAttempts, paymentsInbox, paymentsOutbox } from './schema.mssql.ts';
import * as statements from './statements.mssql.ts';

/** Builds the payments repository over a database or a transaction. */
export function paymentsRepo(db: MssqlDb): PaymentsRepo {
  const findPaymentByOrder = async (orderId: string): Promise<Payment | undefined> => {
    const [row] = await statements.findPaymentByOrder(db, orderId);
    return row;
  };
  return {
    async insertPayment(payment) {
      const [created] = await statements.insertPayment(db, payment);
      if (created) return { created: true, payment: created };
      return {
        created: false,
        payment: mustExist(await findPaymentByOrder(payment.orderId), 'payment for order', payment.orderId),
      };
    },
    findPaymentByOrder,
  };
}

/**
 * The payments store. Pass `close` to let `store.close()` close the connection it runs on.
 * @example
 * const store = createPaymentsStore(conn);
 * await migrate(store);
 */
export function createPaymentsStore(
  connection: Pick<MssqlDatabase, 'db' | 'config' | 'target'>,
  options: { close?: () => Promise<void> } = {},
): MssqlStore<PaymentsRepo> {
  return createMssqlStore({
    service: 'payments',
    connection,
    tables: { outbox: paymentsOutbox, inbox: paymentsInbox, attempts: paymentsAttempts },
    createRepo: paymentsRepo,
    ...options,
  });
}
