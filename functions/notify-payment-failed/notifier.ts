/**
 * The notifier port and its two implementations: a structured log line (default) and a JSON webhook.
 * @module
 */
import type { Logger } from 'pino';
import type { Notification } from '../../db/orders/repo.ts';
import { NonRetriableError, RetryLaterError } from '../../runtime/index.ts';

/**
 * Delivers a notification to a person or system. Throws `RetryLaterError` for a transient failure,
 * `NonRetriableError` when the notification can never be delivered.
 */
export interface Notifier {
  /** Recorded with each notification, e.g. `log`, `webhook`. */
  readonly channel: string;
  send(notification: Notification): Promise<void>;
}

declare module '../../runtime/define.ts' {
  interface Ports {
    /** Used by notify-payment-failed. */
    notifier: Notifier;
  }
}

/** Writes each notification as one structured log line at `warn`. */
export function createLogNotifier(logger: Pick<Logger, 'warn'>): Notifier {
  return {
    channel: 'log',
    async send({ id, orderId, kind, message }) {
      logger.warn({ notificationId: id, orderId, kind }, message);
    },
  };
}

export interface WebhookNotifierOptions {
  url: string;
  /** Whole-request timeout. Default 5000. */
  timeoutMs?: number;
}

/**
 * POSTs each notification as JSON to `url`, with an `Idempotency-Key` header equal to the notification id,
 * so a receiver can drop the repeat of a send whose response was lost. 2xx: delivered. 5xx, 429, a network
 * error or a timeout: `RetryLaterError` (honouring `Retry-After` seconds). Any other status: `NonRetriableError`.
 * @example createWebhookNotifier({ url: 'https://hooks.example.com/payments', timeoutMs: 3000 })
 */
export function createWebhookNotifier(options: WebhookNotifierOptions): Notifier {
  const url = new URL(options.url).toString();
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    channel: 'webhook',
    async send(notification) {
      const body = JSON.stringify({
        id: notification.id,
        kind: notification.kind,
        orderId: notification.orderId,
        message: notification.message,
        createdAt: notification.createdAt.toISOString(),
      });
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': notification.id },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const what =
          error instanceof Error && error.name === 'TimeoutError'
            ? `timed out after ${timeoutMs} ms`
            : 'failed';
        throw new RetryLaterError(`webhook POST ${url} ${what}`, { cause: error });
      }
      await response.body?.cancel();
      if (response.ok) return;
      const message = `webhook POST ${url} answered ${response.status}`;
      if (response.status >= 500 || response.status === 429) {
        const delayMs = retryAfterMs(response.headers.get('retry-after'));
        throw new RetryLaterError(message, delayMs === undefined ? {} : { delayMs });
      }
      throw new NonRetriableError(message);
    },
  };
}

/** `Retry-After: <seconds>` in milliseconds; the HTTP-date form is ignored (the runtime's backoff applies). */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}
