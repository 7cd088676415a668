/**
 * The payment provider over HTTP: one `POST {url}/charges` per charge, with the order id as its
 * `Idempotency-Key`, so a retried charge (after a timeout, a crash or a redelivery) is charged once.
 * @module
 */
import { formatAmount } from '../../contracts/money.ts';
import { RetryLaterError } from '../../runtime/index.ts';
import type { ChargeResult, PaymentProvider } from './provider.ts';

export interface HttpProviderOptions {
  /** Base URL; charges go to `${url}/charges`. */
  url: string;
  /** Whole-request timeout (headers and body). Default 5000. */
  timeoutMs?: number;
  /** Largest `Retry-After` honoured, in ms (a longer one is cut to this). Default 60000. */
  maxRetryAfterMs?: number;
  /** Clock for `Retry-After` dates (tests). */
  now?: () => number;
}

/**
 * What the provider answers with a 2xx: `{"status":"approved","id":"ch_…"}` or
 * `{"status":"declined","reason":"insufficient funds"}`.
 */
export type ChargeResponse = { status: 'approved'; id: string } | { status: 'declined'; reason: string };

/**
 * A `PaymentProvider` that charges through an HTTP API.
 *
 * - 2xx `approved` → `COMPLETED` (the provider's id becomes `providerRef`); `declined` → `FAILED` with its reason.
 * - 5xx, 429, a timeout or a connection error → `RetryLaterError` (a `Retry-After` header, in seconds or as an
 *   HTTP date, becomes its `delayMs`): the outcome is unknown or the provider is down, not the order's fault.
 * - any other status, or a 2xx body of another shape → a plain `Error` (the runtime retries it, then dead-letters).
 * @example createHttpProvider({ url: 'https://payments.example.com/v1', timeoutMs: 3000 })
 */
export function createHttpProvider(options: HttpProviderOptions): PaymentProvider {
  const endpoint = `${options.url.replace(/\/+$/, '')}/charges`;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const now = options.now ?? Date.now;

  return {
    async charge({ orderId, amountMinor, currency }) {
      const body = JSON.stringify({ orderId, amount: formatAmount(amountMinor, currency), currency });
      let response: Response;
      let text: string;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': orderId },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        const what =
          error instanceof Error && error.name === 'TimeoutError'
            ? `timed out after ${timeoutMs} ms`
            : `failed (${describe(error)})`;
        throw new RetryLaterError(`payment provider: POST ${endpoint} for order ${orderId} ${what}`, {
          cause: error,
        });
      }
      const answered = `payment provider: POST ${endpoint} for order ${orderId} answered ${response.status}`;
      if (response.status >= 500 || response.status === 429) {
        const delayMs = retryAfterMs(response.headers.get('retry-after'), now(), maxRetryAfterMs);
        throw new RetryLaterError(answered, delayMs === undefined ? {} : { delayMs });
      }
      if (!response.ok) throw new Error(`${answered}: ${text.slice(0, 200)}`);
      return toResult(parse(text), answered);
    },
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toResult(body: unknown, answered: string): ChargeResult {
  const answer = (body ?? {}) as Partial<Record<'status' | 'id' | 'reason', unknown>>;
  if (answer.status === 'approved' && typeof answer.id === 'string' && answer.id !== '')
    return { status: 'COMPLETED', providerRef: answer.id };
  if (answer.status === 'declined' && typeof answer.reason === 'string')
    return { status: 'FAILED', reason: answer.reason };
  throw new Error(`${answered} with a body that is neither approved nor declined`);
}

/** `Retry-After: <seconds>` or `Retry-After: <HTTP-date>` in ms from `now`, capped; undefined when absent or bad. */
export function retryAfterMs(value: string | null, now: number, maxMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  // delay-seconds, or an HTTP-date (which always names its weekday and month: "Wed, 21 Oct 2015 07:28:00 GMT").
  const ms = /^\d{1,9}$/.test(trimmed)
    ? Number(trimmed) * 1000
    : /^[A-Za-z]{3}, /.test(trimmed)
      ? Date.parse(trimmed) - now
      : Number.NaN;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), maxMs);
}

function describe(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}
