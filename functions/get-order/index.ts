/**
 * get-order: `GET /orders/:id` returns the order's JSON view.
 * @module
 */
import { z } from 'zod';
import { orderIdSchema } from '../../contracts/ids.ts';
import { orderViewSchema, toOrderView } from '../../contracts/order-view.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { defineHttpFunction, NotFoundError } from '../../runtime/index.ts';

export const getOrder = defineHttpFunction({
  id: 'get-order',
  method: 'GET',
  path: '/orders/:id',
  store: ordersStore,
  input: { params: z.object({ id: orderIdSchema }) },
  description: "Returns an order's status, payment status and shipment",
  responses: {
    200: {
      description: 'The order',
      schema: orderViewSchema,
      example: {
        orderId: 'ok-1',
        totalAmount: '50.00',
        currency: 'USD',
        status: 'SHIPPED',
        paymentStatus: 'PAID',
        shipment: { trackingId: 'TRK-1A2B3C', carrier: 'SIM-POST', shippedAt: '2026-12-01T08:00:01.000Z' },
        createdAt: '2026-12-01T08:00:00.000Z',
        updatedAt: '2026-12-01T08:00:01.000Z',
      },
    },
    404: { description: 'No order with this id', errors: ['not_found'] },
  },
  handler: async ({ input, deps }) => {
    const order = await deps.db.findOrder(input.params.id);
    if (order === undefined) throw new NotFoundError(`Order ${input.params.id} not found`);
    const shipment = await deps.db.findShipment(order.id);
    return { status: 200, body: toOrderView(order, shipment) };
  },
});
