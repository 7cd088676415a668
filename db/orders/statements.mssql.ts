/**
 * Every SQL Server statement the orders store issues, one small builder each: `store.mssql.ts` executes
 * them, `db/mssql/statements.test.ts` renders them. Each takes the database or transaction first.
 * @module
 */
import { and, asc, desc, eq, gt, lte, sql } from 'drizzle-orm';
import type { OrderStatus } from '../../contracts/orders.ts';
import type { MssqlDb } from '../mssql/connect.ts';
import {
  appLockStatement,
  col,
  columnList,
  insertUnlessExists,
  rawStatement,
  rowsAffected,
  rowsOf,
  type Statement,
} from '../mssql/statement.ts';
import { idempotencyLockResource } from './idempotency-lock.ts';
import type {
  IdempotencyRecord,
  IdempotencyScope,
  NewOrder,
  Notification,
  Order,
  OrderUpdate,
  Shipment,
  TimelineRow,
} from './repo.ts';
import { idempotencyKeys, notifications, orders, orderTimeline, shipments } from './schema.mssql.ts';

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

/**
 * `sp_getapplock` on the key's resource, owned by the transaction, with `@LockTimeout = 0`: granted (0) or
 * not (-1, another transaction holds it) at once, never a wait. Released when the transaction ends.
 */
export const lockIdempotencyKey = (db: MssqlDb, scope: IdempotencyScope, key: string): Statement<number> =>
  appLockStatement(db, idempotencyLockResource(scope, key), 'Transaction', 0);

const sameKey = (scope: IdempotencyScope, key: string) =>
  and(
    eq(idempotencyKeys.clientId, scope.clientId),
    eq(idempotencyKeys.route, scope.route),
    eq(idempotencyKeys.key, key),
  );

/** The key's record unless expired at `now`. A plain read: every writer of a key holds its applock. */
export const findIdempotencyKey = (db: MssqlDb, scope: IdempotencyScope, key: string, now: Date) =>
  db
    .select()
    .from(idempotencyKeys)
    .where(and(sameKey(scope, key), gt(idempotencyKeys.expiresAt, now)));

/** Removes the key's record if it expired at `at` (before a new record of the same key is inserted). */
export const deleteExpiredIdempotencyKey = (db: MssqlDb, scope: IdempotencyScope, key: string, at: Date) =>
  db.delete(idempotencyKeys).where(and(sameKey(scope, key), lte(idempotencyKeys.expiresAt, at)));

/** A plain insert: under the key's applock no other writer exists, so a duplicate is an error (2627). */
export const insertIdempotencyKey = (db: MssqlDb, record: IdempotencyRecord) =>
  db.insert(idempotencyKeys).values(record);

/**
 * `DELETE TOP (@limit) … WHERE expires_at <= @before` over `idempotency_keys_expires_at_idx`; outputs the
 * number of rows deleted. `TOP` without `ORDER BY` picks any expired rows, which is all a pruner needs.
 */
export const deleteExpiredIdempotencyKeys = (db: MssqlDb, before: Date, limit: number): Statement<number> =>
  rawStatement(
    db,
    sql`delete top (${sql.param(limit)}) from ${idempotencyKeys} where ${col(idempotencyKeys.expiresAt)} <= ${sql.param(before, idempotencyKeys.expiresAt)}`,
    rowsAffected,
  );

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

export const insertTimeline = (db: MssqlDb, rows: readonly TimelineRow[]) =>
  db.insert(orderTimeline).values([...rows]);

export const listTimeline = (db: MssqlDb, orderId: string, limit: number) =>
  db
    .select({ orderId: orderTimeline.orderId, at: orderTimeline.at, entry: orderTimeline.entry })
    .from(orderTimeline)
    .where(eq(orderTimeline.orderId, orderId))
    .orderBy(asc(orderTimeline.at), asc(orderTimeline.id))
    .offset(0)
    .fetch(limit);

export const listRecentOrders = (db: MssqlDb, limit: number, status: OrderStatus | undefined) =>
  db
    .select()
    .from(orders)
    .where(status === undefined ? undefined : eq(orders.status, status))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .offset(0)
    .fetch(limit);
