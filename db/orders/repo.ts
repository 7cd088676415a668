/**
 * The orders service's repository port: what the order functions need, in domain terms.
 * Implemented once per dialect (PostgreSQL/PGlite now, SQL Server next); the contract suite runs against each.
 * @module
 */
import type { OrderStatus, PaymentStatus } from '../../contracts/orders.ts';
import { type Batchable, storeToken } from '../../runtime/store.ts';

export interface Order {
  id: string;
  /** Integer minor units of `currency` (cents for USD). */
  amountMinor: bigint;
  currency: string;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewOrder = Pick<Order, 'id' | 'amountMinor' | 'currency'> & { createdAt: Date };

export interface Shipment {
  orderId: string;
  trackingId: string;
  carrier: string;
  shippedAt: Date;
}

export interface Notification {
  id: string;
  orderId: string;
  kind: 'payment-failed';
  channel: string;
  message: string;
  createdAt: Date;
}

/**
 * Where an `Idempotency-Key` applies: the same key in another scope is another key.
 * @example { clientId: '', route: 'POST /orders' }
 */
export interface IdempotencyScope {
  /** Whose key it is; `''` while requests carry no client identity. At most 128 characters. */
  clientId: string;
  /** Method and route template, e.g. `POST /orders` (the alias `POST /order` is another route). At most 64. */
  route: string;
}

export interface IdempotencyRecord extends IdempotencyScope {
  key: string;
  /** Hash of the request the key was first used with. */
  requestHash: string;
  orderId: string;
  /**
   * The first answer: its status and its JSON body as sent. `null` only on keys recorded before answers
   * were stored (migration `…_idempotency_keys_scope_expiry_response`).
   */
  responseStatus: number | null;
  responseBody: string | null;
  createdAt: Date;
  /** From this instant on the key is unused: a request with it runs anew. */
  expiresAt: Date;
}

/** A forward-only change of an order, applied by compare-and-set on the current values. */
export interface OrderUpdate {
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  failureReason: string | null;
  updatedAt: Date;
}

/**
 * The PostgreSQL store lists batch forms (`BATCHED`) of `insertOrder`, `lockOrder`, `updateOrder`, `findShipment`
 * and `insertShipment`, for concurrent group-commit members and `by-key` consumer batches.
 */
export interface OrdersRepo extends Batchable {
  /**
   * Inserts the order unless one with the same id exists (concurrent inserts: exactly one wins).
   * Returns the stored order either way, and whether this call created it.
   */
  insertOrder(order: NewOrder): Promise<{ created: boolean; order: Order }>;
  findOrder(id: string): Promise<Order | undefined>;
  /** Reads the order and locks it until the transaction ends (`FOR UPDATE` / `UPDLOCK`). */
  lockOrder(id: string): Promise<Order | undefined>;
  /**
   * Writes `update` only if the order still has `expected` status and payment status.
   * Returns false when it changed in between (the caller retries).
   */
  updateOrder(
    id: string,
    expected: Pick<Order, 'status' | 'paymentStatus'>,
    update: OrderUpdate,
  ): Promise<boolean>;

  /**
   * Takes the lock of `(scope, key)` until the transaction ends, without waiting: false when another
   * transaction holds it (a request with that key is in flight). Only meaningful inside a transaction.
   */
  tryLockIdempotencyKey(scope: IdempotencyScope, key: string): Promise<boolean>;
  /** The key's record unless it has expired at `now` (`expiresAt <= now`). */
  findIdempotencyKey(scope: IdempotencyScope, key: string, now: Date): Promise<IdempotencyRecord | undefined>;
  /**
   * Stores the record, replacing an expired record of the same key (one expired at `record.createdAt`).
   * Call it holding the key's lock; a live record of the same key is an error.
   */
  saveIdempotencyKey(record: IdempotencyRecord): Promise<void>;
  /**
   * Deletes at most `limit` keys that expired at or before `before` (pass the current time: a key's window
   * is in its `expiresAt`) and returns how many it deleted; a live key is never deleted. For a pruning job:
   * call it until it returns less than `limit`. Uses `idempotency_keys_expires_at_idx`.
   */
  deleteExpiredIdempotencyKeys(before: Date, limit: number): Promise<number>;

  /** One shipment per order: returns false (and writes nothing) when the order already has one. */
  insertShipment(shipment: Shipment): Promise<boolean>;
  findShipment(orderId: string): Promise<Shipment | undefined>;

  /** One notification per (order, kind): returns false when it already exists. */
  insertNotification(notification: Notification): Promise<boolean>;
  listNotifications(orderId: string): Promise<Notification[]>;

  /** Appends rows to the order timeline read model (`functions/track-order`). */
  appendTimeline(rows: readonly TimelineRow[]): Promise<void>;
  /** The order's timeline rows by `at`, then in the order they were appended; at most `limit` (default 1000). */
  listTimeline(orderId: string, limit?: number): Promise<TimelineRow[]>;
  /** The most recent orders by `createdAt`, optionally of one status (the console's list). */
  listRecentOrders(options: { limit: number; status?: OrderStatus }): Promise<Order[]>;
}

/** One row of the order timeline: `entry` is JSON written and read by `functions/track-order`. */
export interface TimelineRow {
  orderId: string;
  at: Date;
  entry: string;
}

export const ordersStore = storeToken<OrdersRepo>('orders');
