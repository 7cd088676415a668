/**
 * Request schemas of `POST /orders` (and the compatibility alias `POST /order`).
 * HTTP input may transform: both body shapes are normalised into one `CreateOrderRequest`.
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { orderIdSchema } from '../../contracts/ids.ts';
import { formatAmount, isCurrency } from '../../contracts/money.ts';
import { type OrderView, orderViewSchema } from '../../contracts/order-view.ts';
import { parseAmountInput } from './amount.ts';

/** The request after validation: what the handler works with. */
export interface CreateOrderRequest {
  /** Client-chosen order id, if any (otherwise the handler generates one). */
  orderId: string | undefined;
  amountMinor: bigint;
  currency: string;
}

export const DEFAULT_CURRENCY = 'USD';

const amountInput = z.union([z.number(), z.string()], {
  error: (issue) => (issue.input === undefined ? 'is required' : 'must be a number or a decimal string'),
});

const currencyInput = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Z]{3}$/, {
    error: 'must be a three-letter ISO 4217 code in upper case, e.g. "USD"',
    abort: true,
  })
  .refine(isCurrency, { error: (issue) => `unknown ISO 4217 currency "${String(issue.input)}"` });

/** The compatibility shape `{ "OrderId": "123", "Amount": 50 }` is renamed to the current one before validation. */
function renameLegacyFields(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  if (!('Amount' in record) && !('OrderId' in record)) return body;
  const { Amount, OrderId, ...rest } = record;
  return {
    ...rest,
    ...(Amount === undefined || 'amount' in rest ? {} : { amount: Amount }),
    ...(OrderId === undefined || 'orderId' in rest ? {} : { orderId: OrderId }),
  };
}

export const createOrderBodySchema = z
  .preprocess(
    renameLegacyFields,
    z.object(
      {
        amount: amountInput,
        currency: currencyInput.default(DEFAULT_CURRENCY),
        orderId: orderIdSchema.optional(),
      },
      { error: 'must be a JSON object' },
    ),
  )
  .transform((body, ctx): CreateOrderRequest => {
    const amount = parseAmountInput(body.amount, body.currency);
    if (!amount.ok) {
      ctx.addIssue({ code: 'custom', path: ['amount'], message: amount.message, input: body.amount });
      return z.NEVER;
    }
    return { orderId: body.orderId, amountMinor: amount.minor, currency: body.currency };
  });

export const createOrderHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7E]{1,255}$/, 'must be 1-255 visible ASCII characters')
    .optional(),
});

/** The answer of a create (201) or of a repeat of the same order (200). */
export const createOrderResponseSchema = z
  .object({
    status: z.literal('success'),
    message: z.literal('Order Created'),
    orderId: orderIdSchema,
    order: orderViewSchema,
  })
  .meta({ id: 'CreateOrderResponse' });

const PENDING_EXAMPLE: OrderView = {
  orderId: 'ok-1',
  totalAmount: '50.00',
  currency: 'USD',
  status: 'PENDING',
  paymentStatus: 'NOT_PAID',
  createdAt: '2026-12-01T08:00:00.000Z',
  updatedAt: '2026-12-01T08:00:00.000Z',
};

/** What `POST /orders` answers, for the OpenAPI document. */
export const createOrderResponses = {
  201: {
    description: 'Created; `Location` names the order',
    schema: createOrderResponseSchema,
    example: { status: 'success', message: 'Order Created', orderId: 'ok-1', order: PENDING_EXAMPLE },
    headers: { location: 'The URL of the order, e.g. `/orders/ok-1`' },
  },
  200: {
    description:
      'The same order id with the same terms (without a key), or a replayed `Idempotency-Key`: the current view; `Idempotent-Replayed: true`',
    schema: createOrderResponseSchema,
    example: {
      status: 'success',
      message: 'Order Created',
      orderId: 'ok-1',
      order: { ...PENDING_EXAMPLE, status: 'SHIPPED', paymentStatus: 'PAID' },
    },
    headers: { location: 'The URL of the order', 'idempotent-replayed': '`true`' },
  },
  409: {
    description: 'The order id exists with other terms, or a request with this key is still in progress',
    errors: ['conflict', 'idempotency_key_in_use'],
  },
  422: { description: 'The `Idempotency-Key` was used for another request', errors: ['unprocessable'] },
} as const;

/**
 * Hash of the normalised request, stored with an `Idempotency-Key`: `{"amount": 50}` and `{"Amount": "50.00"}`
 * are the same request; a different order id, amount or currency is not.
 */
export function requestHash(request: CreateOrderRequest): string {
  const canonical = JSON.stringify({
    orderId: request.orderId ?? null,
    amount: formatAmount(request.amountMinor, request.currency),
    currency: request.currency,
  });
  return createHash('sha256').update(canonical).digest('hex');
}
