/**
 * Pure decisions of create-order: what a repeated request gets back.
 * @module
 */
import { formatAmount } from '../../contracts/money.ts';

export interface OrderTerms {
  amountMinor: bigint;
  currency: string;
}

export type RepeatDecision = { kind: 'replay' } | { kind: 'reject'; message: string };

/**
 * An order with the requested id already exists: the same terms are a retry (return the original),
 * different terms are a conflict.
 */
export function decideExistingOrder(
  orderId: string,
  existing: OrderTerms,
  requested: OrderTerms,
): RepeatDecision {
  if (existing.amountMinor === requested.amountMinor && existing.currency === requested.currency) {
    return { kind: 'replay' };
  }
  const had = `${formatAmount(existing.amountMinor, existing.currency)} ${existing.currency}`;
  const asked = `${formatAmount(requested.amountMinor, requested.currency)} ${requested.currency}`;
  return { kind: 'reject', message: `Order ${orderId} already exists with amount ${had}, not ${asked}` };
}

/** An `Idempotency-Key` was used before: the same normalised request is a retry, another request is refused. */
export function decideIdempotencyKey(storedHash: string, requestHash: string): RepeatDecision {
  return storedHash === requestHash
    ? { kind: 'replay' }
    : {
        kind: 'reject',
        message:
          'Idempotency-Key was already used with a different request body; use a new key for a new request',
      };
}
