/**
 * PostgreSQL schema of the orders service: everything lives in the `orders` schema, so the service can share
 * a database (or a PGlite instance) with others without name clashes. drizzle-kit generates the migrations
 * in `db/migrations/postgres/orders` from this file (`npm run db:generate`).
 * @module
 */
import {
  bigint,
  check,
  index,
  integer,
  pgSchema,
  primaryKey,
  text,
  unique,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import {
  ORDER_STATUSES,
  type OrderStatus,
  PAYMENT_STATUSES,
  type PaymentStatus,
} from '../../contracts/orders.ts';
import {
  amountMinor,
  createdAt,
  currency,
  currencyCode,
  oneOf,
  orderIdColumn,
  positive,
  timestamptz,
} from '../postgres/columns.ts';
import { attemptsTable, inboxTable, outboxTable } from '../postgres/messaging-schema.ts';

export const ordersSchema = pgSchema('orders');

export const orders = ordersSchema.table(
  'orders',
  {
    id: orderIdColumn('id').primaryKey(),
    amountMinor: amountMinor(),
    currency: currency(),
    status: varchar('status', { length: 16 }).$type<OrderStatus>().notNull().default('PENDING'),
    paymentStatus: varchar('payment_status', { length: 16 })
      .$type<PaymentStatus>()
      .notNull()
      .default('NOT_PAID'),
    failureReason: text('failure_reason'),
    createdAt: createdAt(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
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
  trackingId: varchar('tracking_id', { length: 128 }).notNull().unique(),
  carrier: varchar('carrier', { length: 64 }).notNull(),
  shippedAt: timestamptz('shipped_at').notNull(),
});

export const NOTIFICATION_KINDS = ['payment-failed'] as const;

export const notifications = ordersSchema.table(
  'notifications',
  {
    id: uuid('id').primaryKey(),
    orderId: orderIdColumn('order_id').references(() => orders.id),
    kind: varchar('kind', { length: 32 }).$type<(typeof NOTIFICATION_KINDS)[number]>().notNull(),
    channel: varchar('channel', { length: 32 }).notNull(),
    message: text('message').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique('notifications_order_kind_key').on(t.orderId, t.kind),
    check('notifications_kind_values', oneOf(t.kind, NOTIFICATION_KINDS)),
  ],
);

/**
 * The order timeline read model (`functions/track-order`): one row per thing that happened to an order — an
 * event published, a consumer attempt, a dead letter, a redrive — folded from Kafka in its own consumer group.
 * `entry` is the JSON of a `TimelineEntry` (`db/orders/repo.ts`); `at` orders the rows. No foreign key: an
 * entry may be folded before the order row is visible, or for an order id that never existed.
 */
export const orderTimeline = ordersSchema.table(
  'order_timeline',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    orderId: orderIdColumn('order_id'),
    at: timestamptz('at').notNull(),
    entry: text('entry').notNull(),
  },
  (t) => [index('order_timeline_order_at_idx').on(t.orderId, t.at)],
);

/**
 * `Idempotency-Key`s: per scope (client, route) and key, the request it was first used with and the answer
 * that request got, as sent, until `expires_at` (see functions/create-order/README.md). Written in the same
 * transaction as the order, so a request that fails leaves no key. No foreign key: the order id may be one
 * that existed before the key.
 */
export const idempotencyKeys = ordersSchema.table(
  'idempotency_keys',
  {
    /** Whose key it is; '' while requests carry no client identity. */
    clientId: varchar('client_id', { length: 128 }).notNull().default(''),
    /** Method and route template, e.g. `POST /orders`. */
    route: varchar('route', { length: 64 }).notNull(),
    key: varchar('key', { length: 255 }).notNull(),
    requestHash: varchar('request_hash', { length: 128 }).notNull(),
    orderId: orderIdColumn('order_id'),
    /** The first answer's status and JSON body (text, not jsonb: kept byte for byte). NULL only on keys migrated from before. */
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    createdAt: createdAt(),
    /** From this instant the key is unused: a request with it runs anew, and the row may be pruned. */
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.clientId, t.route, t.key] }),
    // deleteExpiredIdempotencyKeys: a range scan over what has expired, not the whole table.
    index('idempotency_keys_expires_at_idx').on(t.expiresAt),
  ],
);

export const ordersOutbox = outboxTable(ordersSchema);
export const ordersInbox = inboxTable(ordersSchema);
export const ordersAttempts = attemptsTable(ordersSchema);

export type OrderRow = typeof orders.$inferSelect;
export type ShipmentRow = typeof shipments.$inferSelect;
export type NotificationRow = typeof notifications.$inferSelect;
export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;

/** Every table of the service, in an order that TRUNCATE … CASCADE and tests can rely on. */
export const ordersTables = [
  orders,
  shipments,
  notifications,
  idempotencyKeys,
  orderTimeline,
  ordersOutbox,
  ordersInbox,
  ordersAttempts,
] as const;
