/**
 * The payment provider port, and a simulated provider for local runs and tests.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { minorDigits } from '../../contracts/money.ts';

export interface ChargeRequest {
  /** Also the provider-side idempotency key: a real provider must charge one order at most once. */
  orderId: string;
  /** Integer minor units of `currency`. */
  amountMinor: bigint;
  currency: string;
}

export type ChargeResult =
  | { status: 'COMPLETED'; providerRef: string }
  | { status: 'FAILED'; reason: string };

/**
 * Charges an order. Declines are results (`FAILED` with a reason); a thrown error means "unknown, try again"
 * (throw `RetryLaterError` for a known transient failure).
 */
export interface PaymentProvider {
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

declare module '../../runtime/define.ts' {
  interface Ports {
    /** Used by process-payment. */
    paymentProvider: PaymentProvider;
  }
}

export interface SimulatedProviderOptions {
  /** Largest amount that succeeds, in major units of the order's currency, as decimal text. Default "300". */
  limit?: string;
}

export const INSUFFICIENT_FUNDS = 'insufficient funds';

/**
 * A provider that approves any amount up to `limit` (inclusive) and declines larger ones with
 * "insufficient funds". The comparison is exact, in minor units, whatever the currency's digits.
 * @example createSimulatedProvider({ limit: '300' }) // 300.00 USD succeeds, 300.01 USD fails
 */
export function createSimulatedProvider(options: SimulatedProviderOptions = {}): PaymentProvider {
  const limit = options.limit ?? '300';
  const match = /^(0|[1-9]\d*)(?:\.(\d+))?$/.exec(limit);
  if (!match) throw new Error(`simulated provider: limit must be a non-negative decimal, got "${limit}"`);
  const fraction = match[2] ?? '';
  const limitUnits = BigInt(match[1]! + fraction);
  const limitScale = fraction.length;

  /** Idempotent like a real provider: a repeated charge of an order gets the first answer (same reference). */
  const charged = new Map<string, ChargeResult>();
  const decide = (amountMinor: bigint, currency: string): ChargeResult => {
    const digits = minorDigits(currency);
    if (digits === undefined) return { status: 'FAILED', reason: `unsupported currency ${currency}` };
    // amountMinor / 10^digits > limitUnits / 10^limitScale, cross-multiplied to stay in integers.
    const overLimit = amountMinor * 10n ** BigInt(limitScale) > limitUnits * 10n ** BigInt(digits);
    return overLimit
      ? { status: 'FAILED', reason: INSUFFICIENT_FUNDS }
      : { status: 'COMPLETED', providerRef: `sim_${randomUUID()}` };
  };
  return {
    async charge({ orderId, amountMinor, currency }) {
      const first = charged.get(orderId);
      if (first !== undefined) return first;
      const result = decide(amountMinor, currency);
      charged.set(orderId, result);
      // Remembers the latest 100 000 orders (a real provider keeps its idempotency keys for a day or so).
      if (charged.size > 100_000) charged.delete(charged.keys().next().value!);
      return result;
    },
  };
}
