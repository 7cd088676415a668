/**
 * The orders service's repository port: what the order functions need, in domain terms.
 * Implemented once per dialect (PostgreSQL/PGlite now, SQL Server next); the contract suite runs against each.
 * @module
 */
import type { OrderStatus, PaymentStatus } from '../../contracts/orders.ts';
import { storeToken } from '../../runtime/store.ts';

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

export interface IdempotencyRecord {
  key: string;
  /** Hash of the request body the key was first used with. */
  requestHash: string;
  orderId: string;
  createdAt: Date;
}

/** A forward-only change of an order, applied by compare-and-set on the current values. */
export interface OrderUpdate {
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  failureReason: string | null;
  updatedAt: Date;
}

export interface OrdersRepo {
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

  /** Inserts the key unless present; returns the stored record and whether this call created it. */
  claimIdempotencyKey(record: IdempotencyRecord): Promise<{ created: boolean; record: IdempotencyRecord }>;

  /** One shipment per order: returns false (and writes nothing) when the order already has one. */
  insertShipment(shipment: Shipment): Promise<boolean>;
  findShipment(orderId: string): Promise<Shipment | undefined>;

  /** One notification per (order, kind): returns false when it already exists. */
  insertNotification(notification: Notification): Promise<boolean>;
  listNotifications(orderId: string): Promise<Notification[]>;
}

export const ordersStore = storeToken<OrdersRepo>('orders');
