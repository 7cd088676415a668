/**
 * Every SQL Server statement the orders store issues, one small builder each: `store.mssql.ts` executes
 * them, `db/mssql/statements.test.ts` renders them. Each takes the database or transaction first.
 * @module
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { MssqlDb } from '../mssql/connect.ts';
import { col, columnList, insertUnlessExists, rawStatement, rowsOf } from '../mssql/statement.ts';
import type { IdempotencyRecord, NewOrder, Notification, Order, OrderUpdate, Shipment } from './repo.ts';
import { idempotencyKeys, notifications, orders, shipments } from './schema.mssql.ts';

/** A new order, PENDING and NOT_PAID, unless one with its id exists. Outputs the inserted row (none on a duplicate). */
export const insertOrder = (db: MssqlDb, order: NewOrder) =>
  insertUnlessExists(
    db,
    orders,
    {
      id: order.id,
      amountMinor: order.amountMinor,
      currency: order.currency,
      status: 'PENDING',
      paymentStatus: 'NOT_PAID',
      failureReason: null,
      createdAt: order.createdAt,
      updatedAt: order.createdAt,
    },
    ['id'],
  );

export const findOrder = (db: MssqlDb, id: string) => db.select().from(orders).where(eq(orders.id, id));

/**
 * Reads the order with an update lock held to the end of the transaction (`UPDLOCK`: a second `lockOrder`
 * waits; plain readers are not blocked; `ROWLOCK`: only this row). drizzle's mssql select has no table
 * hints in rc.5, hence raw SQL decoded through the table's columns.
 */
export const lockOrder = (db: MssqlDb, id: string) =>
  rawStatement(
    db,
    sql`select ${columnList(orders)} from ${orders} with (updlock, rowlock) where ${col(orders.id)} = ${sql.param(id, orders.id)}`,
    rowsOf(orders),
  );

/** Compare-and-set: changes the order only if it still has the expected statuses; outputs the id when it did. */
export const updateOrder = (
  db: MssqlDb,
  id: string,
  expected: Pick<Order, 'status' | 'paymentStatus'>,
  update: OrderUpdate,
) =>
  db
    .update(orders)
    .set({
      status: update.status,
      paymentStatus: update.paymentStatus,
      failureReason: update.failureReason,
      updatedAt: update.updatedAt,
    })
    .output({ inserted: { id: orders.id } })
    .where(
      and(
        eq(orders.id, id),
        eq(orders.status, expected.status),
        eq(orders.paymentStatus, expected.paymentStatus),
      ),
    );

export const claimIdempotencyKey = (db: MssqlDb, record: IdempotencyRecord) =>
  insertUnlessExists(db, idempotencyKeys, record, ['key']);

export const findIdempotencyKey = (db: MssqlDb, key: string) =>
  db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));

/** One shipment per order: the key is the order id; a reused tracking id still fails (unique constraint). */
export const insertShipment = (db: MssqlDb, shipment: Shipment) =>
  insertUnlessExists(db, shipments, shipment, ['orderId']);

export const findShipment = (db: MssqlDb, orderId: string) =>
  db.select().from(shipments).where(eq(shipments.orderId, orderId));

/** One notification per (order, kind). */
export const insertNotification = (db: MssqlDb, notification: Notification) =>
  insertUnlessExists(db, notifications, notification, ['orderId', 'kind']);

export const listNotifications = (db: MssqlDb, orderId: string) =>
  db
    .select()
    .from(notifications)
    .where(eq(notifications.orderId, orderId))
    .orderBy(asc(notifications.createdAt), asc(notifications.id));
