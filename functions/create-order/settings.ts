/**
 * create-order's settings, injected as a port (`functions/ports.ts` builds it from `IDEMPOTENCY_KEY_TTL_MS`).
 * @module
 */

export interface CreateOrderSettings {
  /** How long an `Idempotency-Key` is remembered, in ms; afterwards a request with it runs anew. */
  idempotencyKeyTtlMs: number;
}

/** 24 hours, as Stripe keeps keys. */
export const DEFAULT_IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_CREATE_ORDER_SETTINGS: CreateOrderSettings = {
  idempotencyKeyTtlMs: DEFAULT_IDEMPOTENCY_KEY_TTL_MS,
};

declare module '../../runtime/define.ts' {
  interface Ports {
    /** Used by create-order; absent (e.g. in tests that do not care) = the defaults. */
    createOrder?: CreateOrderSettings;
  }
}
