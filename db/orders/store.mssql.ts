/**
 * The orders service store over SQL Server: `OrdersRepo` over the statements in `statements.mssql.ts`, plus
 * the shared transaction, outbox and inbox machinery (`db/mssql/store-base.ts`).
 *
 * Unique inserts are insert-or-nothing (`INSERT … SELECT … WHERE NOT EXISTS (… WITH (UPDLOCK, HOLDLOCK))`)
 * followed, when nothing was inserted, by a read of the row that won: concurrent duplicates create exactly
 * one row and never surface a unique violation.
 * @module
 */
import type { MssqlDatabase, MssqlDb } from '../mssql/connect.ts';
import { createMssqlStore, type MssqlStore, mustExist } from '../mssql/store-base.ts';
import type { Order, OrdersRepo } from './repo.ts';
import { ordersAttempts, ordersInbox, ordersOutbox } from './schema.mssql.ts';
import * as statements from './statements.mssql.ts';

/** Builds the orders repository over a database or a transaction. */
export function ordersRepo(db: MssqlDb): OrdersRepo {
  const findOrder = async (id: string): Promise<Order | undefined> => {
    const [row] = await statements.findOrder(db, id);
    return row;
  };
  return {
    async insertOrder(order) {
      const [created] = await statements.insertOrder(db, order);
      if (created) return { created: true, order: created };
      return { created: false, order: mustExist(await findOrder(order.id), 'order', order.id) };
    },
    findOrder,
    async lockOrder(id) {
      const [row] = await statements.lockOrder(db, id).execute();
      return row;
    },
    async updateOrder(id, expected, update) {
      const updated = await statements.updateOrder(db, id, expected, update);
      return updated.length > 0;
    },
    async tryLockIdempotencyKey(scope, key) {
      const status = await statements.lockIdempotencyKey(db, scope, key).execute();
      if (status === -1) return false; // timed out at once: another transaction holds it
      if (status < 0) throw new Error(`idempotency key lock: sp_getapplock status ${status}`);
      return true;
    },
    async findIdempotencyKey(scope, key, now) {
      const [row] = await statements.findIdempotencyKey(db, scope, key, now);
      return row;
    },
    async saveIdempotencyKey(record) {
      await statements.deleteExpiredIdempotencyKey(db, record, record.key, record.createdAt);
      await statements.insertIdempotencyKey(db, record);
    },
    deleteExpiredIdempotencyKeys(before, limit) {
      return statements.deleteExpiredIdempotencyKeys(db, before, limit).execute();
    },
    async insertShipment(shipment) {
      const inserted = await statements.insertShipment(db, shipment);
      return inserted.length > 0;
    },
    async findShipment(orderId) {
      const [row] = await statements.findShipment(db, orderId);
      return row;
    },
    async insertNotification(notification) {
      const inserted = await statements.insertNotification(db, notification);
      return inserted.length > 0;
    },
    listNotifications(orderId) {
      return statements.listNotifications(db, orderId).execute();
    },
    async appendTimeline(rows) {
      if (rows.length > 0) await statements.insertTimeline(db, rows);
    },
    listTimeline(orderId, limit = 1000) {
      return statements.listTimeline(db, orderId, limit).execute();
    },
    listRecentOrders({ limit, status }) {
      return statements.listRecentOrders(db, limit, status).execute();
    },
  };
}

/**
 * The orders store. Pass `close` to let `store.close()` close the connection it runs on.
 * @example
 * const conn = await openMssql({ url: process.env.ORDERS_DATABASE_URL! });
 * const store = createOrdersStore(conn, { close: conn.close });
 * await migrate(store);
 */
export function createOrdersStore(
  connection: Pick<MssqlDatabase, 'db' | 'config' | 'target'>,
  options: { close?: () => Promise<void> } = {},
): MssqlStore<OrdersRepo> {
  return createMssqlStore({
    service: 'orders',
    connection,
    tables: { outbox: ordersOutbox, inbox: ordersInbox, attempts: ordersAttempts },
    createRepo: ordersRepo,
    // Expired Idempotency-Keys go with the pruning round; each row carries its own expiry.
    extraPrune: (repo) => [
      { name: 'idempotency_keys', prune: ({ now, limit }) => repo.deleteExpiredIdempotencyKeys(now, limit) },
    ],
    ...options,
  });
}
