/**
 * create-order: `POST /orders` (alias `POST /order`). Persists a PENDING order and requests its payment,
 * in one transaction. Idempotent by order id and by `Idempotency-Key` (see README.md).
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
  type HandlerDeps,
  type HttpResult,
  UnprocessableError,
} from '../../runtime/index.ts';
import { decideExistingOrder, decideIdempotencyKey } from './decide.ts';
import {
  IdempotencyKeyInUseError,
  idempotencyScope,
  REPLAYED_HEADER,
  replayStored,
  storedResponse,
} from './idempotency.ts';
import {
  type CreateOrderRequest,
  createOrderBodySchema,
  createOrderHeadersSchema,
  createOrderResponses,
  requestHash,
} from './schema.ts';
import { DEFAULT_CREATE_ORDER_SETTINGS } from './settings.ts';

const PATHS = ['/orders', '/order'] as const;

export const createOrder = defineHttpFunction({
  id: 'create-order',
  method: 'POST',
  path: PATHS,
  store: ordersStore,
  input: { body: createOrderBodySchema, headers: createOrderHeadersSchema },
  description: 'Creates an order and requests its payment',
  responses: createOrderResponses,
  // Its calls are the insert of its own order, then reads of that order: any interleaving with the other
  // members of a group gives the same answers, so their inserts go as one statement (runtime/group-commit.ts).
  groupCommit: 'concurrent',
  handler: async ({ input, deps, meta }) => {
    const request = input.body;
    const key = input.headers['idempotency-key'];
    const now = deps.clock();
    if (key === undefined) return (await createOrReplay(deps, request, now)).response;

    // The key's lock is held to the end of this transaction: a concurrent request with the same key
    // gets a 409 at once, and the key is written with the order or not at all.
    const scope = idempotencyScope(meta, PATHS[0]);
    if (!(await deps.db.tryLockIdempotencyKey(scope, key))) {
      throw new IdempotencyKeyInUseError(
        'A request with this Idempotency-Key is still in progress; retry it shortly',
      );
    }
    const hash = requestHash(request);
    const stored = await deps.db.findIdempotencyKey(scope, key, now);
    if (stored !== undefined) {
      const decision = decideIdempotencyKey(stored.requestHash, hash);
      if (decision.kind === 'reject') throw new UnprocessableError(decision.message);
      return replayStored(stored, location(stored.orderId)) ?? replayCurrent(deps.db, stored.orderId);
    }

    const { orderId, response } = await createOrReplay(deps, request, now);
    const { idempotencyKeyTtlMs } = deps.ports.createOrder ?? DEFAULT_CREATE_ORDER_SETTINGS;
    await deps.db.saveIdempotencyKey({
      ...scope,
      key,
      requestHash: hash,
      orderId,
      ...storedResponse(response),
      createdAt: now,
      expiresAt: new Date(now.getTime() + idempotencyKeyTtlMs),
    });
    return response;
  },
});

/**
 * Creates the order, or answers for the existing one with the same id and terms: 200 with its current view
 * (the order id is the idempotency key of a request without one), 409 for other terms.
 */
async function createOrReplay(
  deps: HandlerDeps<OrdersRepo>,
  request: CreateOrderRequest,
  now: Date,
): Promise<{ orderId: string; response: HttpResult }> {
  const orderId = request.orderId ?? randomUUID();
  const { created, order } = await deps.db.insertOrder({
    id: orderId,
    amountMinor: request.amountMinor,
    currency: request.currency,
    createdAt: now,
  });
  if (!created) {
    const decision = decideExistingOrder(orderId, order, request);
    if (decision.kind === 'reject') throw new ConflictError(decision.message);
    return { orderId, response: await currentView(deps.db, order) };
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
  return { orderId, response: response(201, order) };
}

/** A key stored before answers were: replayed as it was then, with the order's current view. */
async function replayCurrent(db: OrdersRepo, orderId: string): Promise<HttpResult> {
  const order = await db.findOrder(orderId);
  if (order === undefined)
    throw new Error(`Idempotency-Key refers to order ${orderId}, which does not exist`);
  return currentView(db, order);
}

async function currentView(db: OrdersRepo, order: Order): Promise<HttpResult> {
  const shipment = await db.findShipment(order.id);
  const result = response(200, order, shipment);
  return { ...result, headers: { ...result.headers, [REPLAYED_HEADER]: 'true' } };
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
    headers: location(order.id),
  };
}

function location(orderId: string): Record<string, string> {
  return { location: `/orders/${orderId}` };
}
