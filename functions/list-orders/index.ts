/**
 * list-orders: `GET /orders?status=&limit=`, the most recent orders first (the console's list).
 * @module
 */
import { z } from 'zod';
import { toOrderView } from '../../contracts/order-view.ts';
import { ORDER_STATUSES } from '../../contracts/orders.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { defineHttpFunction } from '../../runtime/index.ts';

export const listOrders = defineHttpFunction({
  id: 'list-orders',
  method: 'GET',
  path: '/orders',
  store: ordersStore,
  input: {
    query: z.object({
      status: z.enum(ORDER_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  description: 'Lists the most recent orders, optionally of one status',
  handler: async ({ input, deps }) => {
    const { status, limit } = input.query;
    const rows = await deps.db.listRecentOrders({ limit, ...(status === undefined ? {} : { status }) });
    return { status: 200, body: { orders: rows.map((order) => toOrderView(order, undefined)) } };
  },
});
