/**
 * Every SQL Server statement the payments store issues (executed by `store.mssql.ts`, rendered by
 * `db/mssql/statements.test.ts`).
 * @module
 */
import { eq } from 'drizzle-orm';
import type { MssqlDb } from '../mssql/connect.ts';
import { insertUnlessExists } from '../mssql/statement.ts';
import type { Payment } from './repo.ts';
import { payments } from './schema.mssql.ts';

/** One payment per order: inserts unless the order already has one; outputs the inserted row. */
export const insertPayment = (db: MssqlDb, payment: Payment) =>
  insertUnlessExists(db, payments, payment, ['orderId']);

export const findPaymentByOrder = (db: MssqlDb, orderId: string) =>
  db.select().from(payments).where(eq(payments.orderId, orderId));
