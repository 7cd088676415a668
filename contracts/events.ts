/**
 * The events of the payment flow. Payloads carry money as a decimal string with exactly the currency's
 * minor digits (e.g. "50.00") plus the ISO 4217 code; never a float. Every event is keyed by order id.
 * @module
 */
import { z } from 'zod';
import { defineEvent } from '../runtime/events.ts';
import { orderIdSchema } from './ids.ts';

/** Topic names, one per event type. Dead-letter topics are `<function-id>.dlq`. */
export const Topics = {
  paymentRequests: 'payment-requests',
  paymentCompleted: 'payment-completed',
  paymentFailed: 'payment-failed',
  orderShipped: 'order-shipped',
} as const;

const money = {
  amount: z.string().regex(/^(0|[1-9]\d*)(\.\d+)?$/, 'must be a decimal string'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
};

export const PaymentRequested = defineEvent('PaymentRequested', {
  version: 1,
  topic: Topics.paymentRequests,
  schema: z.object({ orderId: orderIdSchema, ...money }),
  key: (data) => data.orderId,
});

export const PaymentCompleted = defineEvent('PaymentCompleted', {
  version: 1,
  topic: Topics.paymentCompleted,
  schema: z.object({ orderId: orderIdSchema, paymentId: z.string().min(1), ...money }),
  key: (data) => data.orderId,
});

export const PaymentFailed = defineEvent('PaymentFailed', {
  version: 1,
  topic: Topics.paymentFailed,
  schema: z.object({
    orderId: orderIdSchema,
    paymentId: z.string().min(1),
    ...money,
    reason: z.string().min(1),
  }),
  key: (data) => data.orderId,
});

export const OrderShipped = defineEvent('OrderShipped', {
  version: 1,
  topic: Topics.orderShipped,
  schema: z.object({ orderId: orderIdSchema, trackingId: z.string().min(1), carrier: z.string().min(1) }),
  key: (data) => data.orderId,
});
