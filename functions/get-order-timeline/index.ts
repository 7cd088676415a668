/**
 * get-order-timeline: `GET /orders/:id/timeline`, the order's journey in time order (track-order's read model).
 * @module
 */
import { z } from 'zod';
import { orderIdSchema } from '../../contracts/ids.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { defineHttpFunction, NotFoundError } from '../../runtime/index.ts';

export const getOrderTimeline = defineHttpFunction({
  id: 'get-order-timeline',
  method: 'GET',
  path: '/orders/:id/timeline',
  store: ordersStore,
  input: { params: z.object({ id: orderIdSchema }) },
  description:
    "Returns an order's timeline: events, consumer attempts, dead letters and redrives, in time order",
  handler: async ({ input, deps }) => {
    const order = await deps.db.findOrder(input.params.id);
    if (order === undefined) throw new NotFoundError(`Order ${input.params.id} not found`);
    const rows = await deps.db.listTimeline(order.id);
    return {
      status: 200,
      body: {
        orderId: order.id,
        status: order.status,
        paymentStatus: order.paymentStatus,
        entries: rows.map((row) => JSON.parse(row.entry) as unknown),
      },
    };
  },
});
