/**
 * get-order: `GET /orders/:id` returns the order's JSON view.
 * @module
 */
import { z } from 'zod';
import { orderIdSchema } from '../../contracts/ids.ts';
import { toOrderView } from '../../contracts/order-view.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { defineHttpFunction, NotFoundError } from '../../runtime/index.ts';

export const getOrder = defineHttpFunction({
  id: 'get-order',
  method: 'GET',
  path: '/orders/:id',
  store: ordersStore,
  input: { params: z.object({ id: orderIdSchema }) },
  description: "Returns an order's status, payment status and shipment",
  handler: async ({ input, deps }) => {
    const order = await deps.db.findOrder(input.params.id);
    if (order === undefined) throw new NotFoundError(`Order ${input.params.id} not found`);
    const shipment = await deps.db.findShipment(order.id);
    return { status: 200, body: toOrderView(order, shipment) };
  },
});
