/**
 * The order's JSON view, as returned by `GET /orders/:id` and `POST /orders`. Money is a decimal string
 * with exactly the currency's minor digits; times are ISO-8601.
 * @module
 */
import { z } from 'zod';
import { orderIdSchema } from './ids.ts';
import { formatAmount } from './money.ts';
import { ORDER_STATUSES, type OrderStatus, PAYMENT_STATUSES, type PaymentStatus } from './orders.ts';

export const orderViewSchema = z
  .object({
    orderId: orderIdSchema,
    totalAmount: z.string().regex(/^(0|[1-9]\d*)(\.\d+)?$/),
    currency: z.string().regex(/^[A-Z]{3}$/),
    status: z.enum(ORDER_STATUSES),
    paymentStatus: z.enum(PAYMENT_STATUSES),
    failureReason: z.string().optional(),
    shipment: z
      .object({ trackingId: z.string(), carrier: z.string(), shippedAt: z.iso.datetime() })
      .optional(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'OrderView' });

export type OrderView = z.infer<typeof orderViewSchema>;

/** What the view is built from: the stored order (structurally, so contracts do not depend on db/). */
export interface OrderViewSource {
  id: string;
  amountMinor: bigint;
  currency: string;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ShipmentViewSource {
  trackingId: string;
  carrier: string;
  shippedAt: Date;
}

/**
 * Builds the JSON view of an order; `failureReason` and `shipment` appear only when set.
 * @example toOrderView(order) // { orderId: 'o-1', totalAmount: '50.00', currency: 'USD', status: 'PENDING', ... }
 */
export function toOrderView(order: OrderViewSource, shipment?: ShipmentViewSource): OrderView {
  return {
    orderId: order.id,
    totalAmount: formatAmount(order.amountMinor, order.currency),
    currency: order.currency,
    status: order.status,
    paymentStatus: order.paymentStatus,
    ...(order.failureReason === null ? {} : { failureReason: order.failureReason }),
    ...(shipment === undefined
      ? {}
      : {
          shipment: {
            trackingId: shipment.trackingId,
            carrier: shipment.carrier,
            shippedAt: shipment.shippedAt.toISOString(),
          },
        }),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
