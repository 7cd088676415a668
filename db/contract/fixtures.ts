/**
 * Fixture factories for the store contract suite: valid by default, overridable per test.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { NewOutboxRecord, TransactionalStore } from '../../runtime/store.ts';
import type { NewOrder, Notification, OrdersRepo, Shipment } from '../orders/repo.ts';
import type { Payment, PaymentsRepo } from '../payments/repo.ts';

/** What an engine gives the contract suite: both service stores over one migrated, empty database. */
export interface StoreContractEngine {
  orders: TransactionalStore<OrdersRepo>;
  payments: TransactionalStore<PaymentsRepo>;
  /** Empties every table (between tests). */
  reset(): Promise<void>;
  /** Whether two transactions can be open at once (a server; not PGlite, which has one connection). */
  concurrentTransactions?: boolean;
  close(): Promise<void>;
}

/** Lazily resolved engine: the suite's `beforeAll` sets it, the tests read it. */
export type GetEngine = () => StoreContractEngine;

/** 2^53 + 1: the first integer a JS number cannot hold. */
export const BEYOND_DOUBLE = 2n ** 53n + 1n;
/** Largest PostgreSQL / SQL Server `bigint`. */
export const MAX_BIGINT = 2n ** 63n - 1n;

/** A fixed instant with millisecond precision (what every engine stores exactly). */
export const AT = new Date('2026-03-01T12:00:00.123Z');

let sequence = 0;
/** A unique order id for this run. */
export const orderId = (): string => `ord-${process.pid}-${++sequence}`;

export const newOrder = (overrides: Partial<NewOrder> = {}): NewOrder => ({
  id: orderId(),
  amountMinor: 5050n,
  currency: 'USD',
  createdAt: AT,
  ...overrides,
});

export const shipment = (orderIdValue: string, overrides: Partial<Shipment> = {}): Shipment => ({
  orderId: orderIdValue,
  trackingId: `trk-${randomUUID()}`,
  carrier: 'sim-post',
  shippedAt: AT,
  ...overrides,
});

export const notification = (orderIdValue: string, overrides: Partial<Notification> = {}): Notification => ({
  id: randomUUID(),
  orderId: orderIdValue,
  kind: 'payment-failed',
  channel: 'email',
  message: 'Your payment failed: card declined',
  createdAt: AT,
  ...overrides,
});

export const payment = (overrides: Partial<Payment> = {}): Payment => ({
  id: randomUUID(),
  orderId: orderId(),
  amountMinor: 5050n,
  currency: 'USD',
  status: 'COMPLETED',
  failureReason: null,
  providerRef: `sim_${randomUUID()}`,
  createdAt: AT,
  ...overrides,
});

export const outboxRecord = (overrides: Partial<NewOutboxRecord> = {}): NewOutboxRecord => ({
  eventId: randomUUID(),
  topic: 'payment-requests',
  key: orderId(),
  value: JSON.stringify({ type: 'PaymentRequested', data: { amount: '50.50' } }),
  headers: { 'correlation-id': randomUUID() },
  ...overrides,
});

/** Runs `fn` `n` times at once and returns every result. */
export const concurrently = <T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
