/**
 * The payments service's repository port.
 * @module
 */
import { type Batchable, storeToken } from '../../runtime/store.ts';

export type PaymentOutcome = 'COMPLETED' | 'FAILED';

export interface Payment {
  id: string;
  orderId: string;
  amountMinor: bigint;
  currency: string;
  status: PaymentOutcome;
  failureReason: string | null;
  /** Provider's reference for the charge (simulated provider: `sim_<uuid>`). */
  providerRef: string | null;
  createdAt: Date;
}

/** The PostgreSQL store lists a batch form (`BATCHED`) of `insertPayment`, for `by-key` consumer batches. */
export interface PaymentsRepo extends Batchable {
  /** Exactly one payment per order: returns the existing one (created: false) when the order already has one. */
  insertPayment(payment: Payment): Promise<{ created: boolean; payment: Payment }>;
  findPaymentByOrder(orderId: string): Promise<Payment | undefined>;
}

export const paymentsStore = storeToken<PaymentsRepo>('payments');
