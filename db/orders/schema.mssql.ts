/**
 * SQL Server schema of the orders service: everything lives in the `[orders]` schema, like the PostgreSQL
 * layout (`db/orders/schema.pg.ts`), so the service can share a database with others. drizzle-kit generates
 * the migrations in `db/migrations/mssql/orders` from this file (`npm run db:generate:mssql`).
 * @module
 */
import { bigint, check, index, int, mssqlSchema, nvarchar, primaryKey, unique } from 'drizzle-orm/mssql-core';
import {
  ORDER_STATUSES,
  type OrderStatus,
  PAYMENT_STATUSES,
  type PaymentStatus,
} from '../../contracts/orders.ts';
import {
  amountMinor,
  binaryText,
  code,
  createdAt,
  currency,
  currencyCode,
  oneOf,
  orderIdColumn,
  positive,
  uniqueidentifier,
  utcDatetime,
} from '../mssql/columns.ts';
import { attemptsTable, inboxTable, outboxTable } from '../mssql/messaging-schema.ts';

export const ordersSchema = mssqlSchema('orders');

export const orders = ordersSchema.table(
  'orders',
  {
    id: orderIdColumn('id').primaryKey(),
    amountMinor: amountMinor(),
    currency: currency(),
    status: code('status', 16).$type<OrderStatus>().notNull().default('PENDING'),
    paymentStatus: code('payment_status', 16).$type<PaymentStatus>().notNull().default('NOT_PAID'),
    failureReason: nvarchar('failure_reason', { length: 'max' }),
    createdAt: createdAt(),
    updatedAt: createdAt('updated_at'),
  },
  (t) => [
    check('orders_amount_positive', positive(t.amountMinor)),
    check('orders_currency_code', currencyCode(t.currency)),
    check('orders_status_values', oneOf(t.status, ORDER_STATUSES)),
    check('orders_payment_status_values', oneOf(t.paymentStatus, PAYMENT_STATUSES)),
  ],
);

export const shipments = ordersSchema.table('shipments', {
  orderId: orderIdColumn('order_id')
    .primaryKey()
    .references(() => orders.id),
  trackingId: binaryText('tracking_id', 128).notNull().unique('shipments_tracking_id_key'),
  carrier: nvarchar('carrier', { length: 64 }).notNull(),
  shippedAt: utcDatetime('shipped_at').notNull(),
});

export const NOTIFICATION_KINDS = ['payment-failed'] as const;

export const notifications = ordersSchema.table(
  'notifications',
  {
    id: uniqueidentifier('id').primaryKey(),
    orderId: orderIdColumn('order_id').references(() => orders.id),
    kind: code('kind', 32).$type<(typeof NOTIFICATION_KINDS)[number]>().notNull(),
    channel: nvarchar('channel', { length: 32 }).notNull(),
    message: nvarchar('message', { length: 'max' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique('notifications_order_kind_key').on(t.orderId, t.kind),
    check('notifications_kind_values', oneOf(t.kind, NOTIFICATION_KINDS)),
  ],
);

/** The order timeline read model, as in `schema.pg.ts`. */
export const orderTimeline = ordersSchema.table(
  'order_timeline',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().identity(),
    orderId: orderIdColumn('order_id'),
    at: utcDatetime('at').notNull(),
    entry: nvarchar('entry', { length: 'max' }).notNull(),
  },
  (t) => [index('order_timeline_order_at_idx').on(t.orderId, t.at)],
);

/**
 * `Idempotency-Key`s, as in `schema.pg.ts`. The primary key is (128 + 64 + 255) nvarchar characters = 894
 * bytes, under SQL Server's 900-byte limit for a clustered index key: widen a column only with that in mind.
 */
export const idempotencyKeys = ordersSchema.table(
  'idempotency_keys',
  {
    /** Whose key it is; '' while requests carry no client identity. */
    clientId: binaryText('client_id', 128).notNull().default(''),
    /** Method and route template, e.g. `POST /orders`. */
    route: binaryText('route', 64).notNull(),
    key: binaryText('key', 255).notNull(),
    requestHash: nvarchar('request_hash', { length: 128 }).notNull(),
    orderId: orderIdColumn('order_id'),
    /** The first answer's status and JSON body, byte for byte. NULL only on keys migrated from before. */
    responseStatus: int('response_status'),
    responseBody: nvarchar('response_body', { length: 'max' }),
    createdAt: createdAt(),
    /** From this instant the key is unused: a request with it runs anew, and the row may be pruned. */
    expiresAt: utcDatetime('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.clientId, t.route, t.key] }),
    index('idempotency_keys_expires_at_idx').on(t.expiresAt),
  ],
);

export const ordersOutbox = outboxTable(ordersSchema);
export const ordersInbox = inboxTable(ordersSchema);
export const ordersAttempts = attemptsTable(ordersSchema);

export type OrderRow = typeof orders.$inferSelect;

/** Every table of the service, children before parents (the order a reset must delete in). */
export const ordersTables = [
  shipments,
  notifications,
  idempotencyKeys,
  orderTimeline,
  ordersOutbox,
  ordersInbox,
  ordersAttempts,
  orders,
] as const;
