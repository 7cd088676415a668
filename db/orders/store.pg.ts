/**
 * The orders service store over PostgreSQL/PGlite: `OrdersRepo` queries plus the shared transaction,
 * outbox and inbox machinery.
 *
 * Inserts that must be unique use `INSERT … ON CONFLICT (key) DO NOTHING RETURNING`, then read the row that
 * won: concurrent duplicates create exactly one row and never surface a unique violation. At READ COMMITTED
 * the follow-up read sees the winner, because a conflicting insert waits for the other transaction to commit.
 * @module
 */
import { and, asc, desc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { BATCHED, type BatchedMethods } from '../../runtime/store.ts';
import { foundByKey, insertedOrFound } from '../postgres/batched.ts';
import type { PgDatabase } from '../postgres/connect.ts';
import { createPostgresStore, type PostgresStore } from '../postgres/store-base.ts';
import { idempotencyAdvisoryLockKey } from './idempotency-lock.ts';
import type { IdempotencyScope, NewOrder, Order, OrdersRepo, OrderUpdate, Shipment } from './repo.ts';
import {
  idempotencyKeys,
  notifications,
  orders,
  ordersAttempts,
  ordersInbox,
  ordersOutbox,
  orderTimeline,
  shipments,
} from './schema.pg.ts';

/** Builds the orders repository over a database or a transaction. */
export function ordersRepo(db: PgDatabase): OrdersRepo {
  const findOrder = async (id: string): Promise<Order | undefined> => {
    const [row] = await db.select().from(orders).where(eq(orders.id, id));
    return row;
  };
  const newRow = (order: NewOrder) => ({
    ...order,
    status: 'PENDING' as const,
    paymentStatus: 'NOT_PAID' as const,
    failureReason: null,
    updatedAt: order.createdAt,
  });
  const updateOne = async (
    id: string,
    expected: Pick<Order, 'status' | 'paymentStatus'>,
    update: OrderUpdate,
  ) => {
    const updated = await db
      .update(orders)
      .set({
        status: update.status,
        paymentStatus: update.paymentStatus,
        failureReason: update.failureReason,
        updatedAt: update.updatedAt,
      })
      .where(
        and(
          eq(orders.id, id),
          eq(orders.status, expected.status),
          eq(orders.paymentStatus, expected.paymentStatus),
        ),
      )
      .returning({ id: orders.id });
    return updated.length > 0;
  };
  /** Orders in one statement, each answered as one `insertOrder` after another would be (the single form too). */
  const insertOrders = async (batch: readonly NewOrder[]) =>
    (
      await insertedOrFound(batch, {
        what: 'order',
        keyOf: (order) => order.id,
        rowKey: (row: Order) => row.id,
        insert: (batch) =>
          db.insert(orders).values(batch.map(newRow)).onConflictDoNothing({ target: orders.id }).returning(),
        find: (ids) =>
          db
            .select()
            .from(orders)
            .where(inArray(orders.id, [...ids])),
      })
    ).map(({ created, row }) => ({ created, order: row }));
  /** Batch forms (see `BATCHED`): one statement per kind of call that waits together. */
  const batched: BatchedMethods = {
    insertOrder: (calls) => insertOrders(calls.map(([order]) => order as NewOrder)),
    // Rows locked in id order, whatever the order of the calls, so two batches never wait for each other in a circle.
    lockOrder: (calls) =>
      foundByKey(
        calls.map(([id]) => id as string),
        (row: Order) => row.id,
        (ids) =>
          db
            .select()
            .from(orders)
            .where(inArray(orders.id, [...ids]))
            .orderBy(asc(orders.id))
            .for('update'),
      ),
    updateOrder: async (calls) => {
      const ids = calls.map(([id]) => id as string);
      // One id twice: the second must see the first's update, so one after another.
      if (new Set(ids).size < ids.length) {
        const results: boolean[] = [];
        for (const [id, expected, update] of calls)
          results.push(
            await updateOne(
              id as string,
              expected as Pick<Order, 'status' | 'paymentStatus'>,
              update as OrderUpdate,
            ),
          );
        return results;
      }
      const rows = sql.join(
        calls.map(([id, expected, update]) => {
          const e = expected as Pick<Order, 'status' | 'paymentStatus'>;
          const u = update as OrderUpdate;
          return sql`(${id}::varchar, ${e.status}::varchar, ${e.paymentStatus}::varchar, ${u.status}::varchar, ${u.paymentStatus}::varchar, ${u.failureReason}::text, ${u.updatedAt.toISOString()}::timestamptz)`;
        }),
        sql`, `,
      );
      const result = (await db.execute(
        sql`update ${orders} set status = v.status, payment_status = v.payment_status, failure_reason = v.failure_reason, updated_at = v.updated_at from (values ${rows}) as v(id, expected_status, expected_payment_status, status, payment_status, failure_reason, updated_at) where ${orders.id} = v.id and ${orders.status} = v.expected_status and ${orders.paymentStatus} = v.expected_payment_status returning ${orders.id} as id`,
      )) as unknown as { rows: { id: string }[] };
      const updated = new Set(result.rows.map((row) => row.id));
      return ids.map((id) => updated.has(id));
    },
    findShipment: (calls) =>
      foundByKey(
        calls.map(([orderId]) => orderId as string),
        (row: Shipment) => row.orderId,
        (ids) =>
          db
            .select()
            .from(shipments)
            .where(inArray(shipments.orderId, [...ids])),
      ),
    insertShipment: async (calls) => {
      const batch = calls.map(([shipment]) => shipment as Shipment);
      const inserted = await db
        .insert(shipments)
        .values(batch)
        .onConflictDoNothing({ target: shipments.orderId })
        .returning({ orderId: shipments.orderId });
      const created = new Set(inserted.map((row) => row.orderId));
      // The first of a repeated order id inserted it, as the first of two calls would have.
      return batch.map((shipment) => created.delete(shipment.orderId));
    },
  };
  return {
    [BATCHED]: batched,
    insertOrder: async (order) => (await insertOrders([order]))[0]!,
    findOrder,
    async lockOrder(id) {
      const [row] = await db.select().from(orders).where(eq(orders.id, id)).for('update');
      return row;
    },
    updateOrder: updateOne,
    async tryLockIdempotencyKey(scope, key) {
      const lockKey = idempotencyAdvisoryLockKey(scope, key);
      // Both drivers (pg, PGlite) answer `{ rows }`.
      const result = (await db.execute(
        sql`select pg_try_advisory_xact_lock(${lockKey}::bigint) as locked`,
      )) as unknown as { rows: { locked: boolean }[] };
      return result.rows[0]?.locked === true;
    },
    async findIdempotencyKey(scope, key, now) {
      const [row] = await db
        .select()
        .from(idempotencyKeys)
        .where(and(sameKey(scope, key), gt(idempotencyKeys.expiresAt, now)));
      return row;
    },
    async saveIdempotencyKey(record) {
      await db
        .delete(idempotencyKeys)
        .where(and(sameKey(record, record.key), lte(idempotencyKeys.expiresAt, record.createdAt)));
      await db.insert(idempotencyKeys).values(record);
    },
    async deleteExpiredIdempotencyKeys(before, limit) {
      // Bounded: the ctids of at most `limit` expired rows, skipping rows another transaction holds (a
      // request replacing that expired key), then one delete by ctid.
      const deleted = await db
        .delete(idempotencyKeys)
        .where(
          sql`ctid = any(array(select ctid from ${idempotencyKeys} where ${lte(idempotencyKeys.expiresAt, before)} limit ${limit} for update skip locked))`,
        )
        .returning({ key: idempotencyKeys.key });
      return deleted.length;
    },
    async insertShipment(shipment) {
      const inserted = await db
        .insert(shipments)
        .values(shipment)
        .onConflictDoNothing({ target: shipments.orderId })
        .returning({ orderId: shipments.orderId });
      return inserted.length > 0;
    },
    async findShipment(orderId) {
      const [row] = await db.select().from(shipments).where(eq(shipments.orderId, orderId));
      return row;
    },
    async insertNotification(notification) {
      const inserted = await db
        .insert(notifications)
        .values(notification)
        .onConflictDoNothing({ target: [notifications.orderId, notifications.kind] })
        .returning({ id: notifications.id });
      return inserted.length > 0;
    },
    listNotifications(orderId) {
      return db
        .select()
        .from(notifications)
        .where(eq(notifications.orderId, orderId))
        .orderBy(asc(notifications.createdAt), asc(notifications.id));
    },
    async appendTimeline(rows) {
      if (rows.length > 0) await db.insert(orderTimeline).values([...rows]);
    },
    listTimeline(orderId, limit = 1000) {
      return db
        .select({ orderId: orderTimeline.orderId, at: orderTimeline.at, entry: orderTimeline.entry })
        .from(orderTimeline)
        .where(eq(orderTimeline.orderId, orderId))
        .orderBy(asc(orderTimeline.at), asc(orderTimeline.id))
        .limit(limit);
    },
    listRecentOrders({ limit, status }) {
      return db
        .select()
        .from(orders)
        .where(status === undefined ? undefined : eq(orders.status, status))
        .orderBy(desc(orders.createdAt), desc(orders.id))
        .limit(limit);
    },
  };
}

function sameKey(scope: IdempotencyScope, key: string) {
  return and(
    eq(idempotencyKeys.clientId, scope.clientId),
    eq(idempotencyKeys.route, scope.route),
    eq(idempotencyKeys.key, key),
  );
}

/**
 * The orders store. Pass `close` to let `store.close()` close the connection it runs on.
 * @example
 * const conn = await openPostgres({ url: process.env.DATABASE_URL });
 * const store = createOrdersStore(conn.db, { close: conn.close });
 * await migrate(store);
 */
export function createOrdersStore(
  db: PgDatabase,
  options: { close?: () => Promise<void> } = {},
): PostgresStore<OrdersRepo> {
  return createPostgresStore({
    service: 'orders',
    db,
    tables: { outbox: ordersOutbox, inbox: ordersInbox, attempts: ordersAttempts },
    createRepo: ordersRepo,
    // Expired Idempotency-Keys go with the pruning round; each row carries its own expiry.
    extraPrune: (repo) => [
      { name: 'idempotency_keys', prune: ({ now, limit }) => repo.deleteExpiredIdempotencyKeys(now, limit) },
    ],
    ...options,
  });
}
