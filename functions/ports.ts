/**
 * Builds the application ports every handler may use, from configuration. The only place that chooses
 * implementations: tests pass their own ports instead.
 * @module
 */
import type { Logger } from 'pino';
import type { Ports } from '../runtime/index.ts';
import './create-order/settings.ts'; // declares the `createOrder` port
import { createLogNotifier, createWebhookNotifier } from './notify-payment-failed/notifier.ts';
import { createHttpProvider } from './process-payment/http-provider.ts';
import { createSimulatedProvider } from './process-payment/provider.ts';

export interface PortSettings {
  /** Decimal string: the simulated provider declines amounts above it. */
  paymentLimit: string;
  /** When set, payments are charged over HTTP there (`http-provider.ts`); otherwise simulated. */
  paymentProviderUrl?: string | undefined;
  /** Timeout of one charge request to the HTTP provider (default 5000). */
  paymentProviderTimeoutMs?: number;
  /** When set, payment-failed notifications are POSTed there; otherwise they are logged. */
  notifyWebhookUrl: string | undefined;
  /** How long create-order remembers an `Idempotency-Key`, in ms. */
  idempotencyKeyTtlMs: number;
}

/**
 * @example
 * const ports = createPorts({ paymentLimit: '300', notifyWebhookUrl: undefined, idempotencyKeyTtlMs: 86_400_000 }, logger);
 */
export function createPorts(settings: PortSettings, logger: Logger): Ports {
  return {
    paymentProvider:
      settings.paymentProviderUrl === undefined
        ? createSimulatedProvider({ limit: settings.paymentLimit })
        : createHttpProvider({
            url: settings.paymentProviderUrl,
            ...(settings.paymentProviderTimeoutMs === undefined
              ? {}
              : { timeoutMs: settings.paymentProviderTimeoutMs }),
          }),
    notifier:
      settings.notifyWebhookUrl === undefined
        ? createLogNotifier(logger.child({ component: 'notifier' }))
        : createWebhookNotifier({ url: settings.notifyWebhookUrl }),
    createOrder: { idempotencyKeyTtlMs: settings.idempotencyKeyTtlMs },
  };
}
