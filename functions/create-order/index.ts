/**
 * create-order: `POST /orders` (alias `POST /order`). Persists a PENDING order and requests its payment,
 * in one transaction. Idempotent by order id and by `Idempotency-Key`.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { PaymentRequested } from '../../contracts/events.ts';
import { formatAmount } from '../../contracts/money.ts';
import { toOrderView } from '../../contracts/order-view.ts';
import { type Order, type OrdersRepo, ordersStore } from '../../db/orders/repo.ts';
import {
  ConflictError,
  defineHttpFunction,
  type HttpResult,
  UnprocessableError,
} from '../../runtime/index.ts';
import { decideExistingOrder, decideIdempotencyKey } from './decide.ts';
import { createOrderBodySchema, createOrderHeadersSchema, requestHash } from './schema.ts';

export const createOrder = defineHttpFunction({
  id: 'create-order',
  method: 'POST',
  path: ['/orders', '/order'],
  store: ordersStore,
  input: { body: createOrderBodySchema, headers: createOrderHeadersSchema },
  description: 'Creates an order and requests its payment',
  handler: async ({ input, deps }) => {
    const request = input.body;
    const key = input.headers['idempotency-key'];
    const now = deps.clock();
    const orderId = request.orderId ?? randomUUID();

    if (key !== undefined) {
      const hash = requestHash(request);
      const claim = await deps.db.claimIdempotencyKey({ key, requestHash: hash, orderId, createdAt: now });
      if (!claim.created) {
        const decision = decideIdempotencyKey(claim.record.requestHash, hash);
        if (decision.kind === 'reject') throw new UnprocessableError(decision.message);
        const original = await deps.db.findOrder(claim.record.orderId);
        // The key commits with its order, so this only happens if the store breaks that promise.
        if (original === undefined)
          throw new ConflictError('A request with this Idempotency-Key is still in progress');
        return replay(deps.db, original);
      }
    }

    const { created, order } = await deps.db.insertOrder({
      id: orderId,
      amountMinor: request.amountMinor,
      currency: request.currency,
      createdAt: now,
    });
    if (!created) {
      const decision = decideExistingOrder(orderId, order, request);
      if (decision.kind === 'reject') throw new ConflictError(decision.message);
      return replay(deps.db, order);
    }

    deps.emit(
      PaymentRequested.create(
        { orderId, amount: formatAmount(order.amountMinor, order.currency), currency: order.currency },
        { time: now },
      ),
    );
    deps.log.info(
      { orderId, amountMinor: String(order.amountMinor), currency: order.currency },
      'order created',
    );
    return response(201, order);
  },
});

async function replay(db: OrdersRepo, order: Order): Promise<HttpResult> {
  const shipment = await db.findShipment(order.id);
  return {
    ...response(200, order, shipment),
    headers: { ...location(order), 'idempotent-replayed': 'true' },
  };
}

function response(status: 200 | 201, order: Order, shipment?: Parameters<typeof toOrderView>[1]): HttpResult {
  return {
    status,
    body: {
      status: 'success',
      message: 'Order Created',
      orderId: order.id,
      order: toOrderView(order, shipment),
    },
    headers: location(order),
  };
}

function location(order: Order): Record<string, string> {
  return { location: `/orders/${order.id}` };
}
