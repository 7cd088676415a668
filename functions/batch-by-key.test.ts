/**
 * `batchItems: 'by-key'` over the real stores (PGlite): a consumer batch's orders run together, each kind of
 * repository call as one statement, with the answers one after another would give.
 */
import { describe, expect, it } from 'vitest';
import { PaymentCompleted } from '../contracts/events.ts';
import { eventInvocationMeta, invokeEventBatch } from '../runtime/invoke.ts';
import { BATCHED, type BatchedMethods, type TransactionalStore } from '../runtime/store.ts';
import type { TestEnv } from '../runtime/testing/index.ts';
import { paymentCompleted, paymentRequested, seedOrder } from './__fixtures__/factories.ts';
import { outboxEvents, setupFunctionTest } from './__fixtures__/setup.ts';
import { applyPaymentResult } from './apply-payment-result/index.ts';
import { processPayment } from './process-payment/index.ts';
import { createSimulatedProvider } from './process-payment/provider.ts';
import { shipOrder } from './ship-order/index.ts';

const t = setupFunctionTest({
  ports: () => ({ paymentProvider: createSimulatedProvider({ limit: '300' }) }),
});

/** `t.env` with `service`'s store counting its repository calls: single ones and batched ones (with sizes). */
function counting(service: 'orders' | 'payments'): { env: TestEnv; calls: string[] } {
  const calls: string[] = [];
  const inner = t.env.stores[service] as TransactionalStore<Record<string | symbol, unknown>>;
  const countedRepo = (repo: Record<string | symbol, unknown>) => {
    const batched = repo[BATCHED] as BatchedMethods;
    const counted: Record<string | symbol, unknown> = { ...repo, [BATCHED]: {} };
    for (const [name, method] of Object.entries(repo)) {
      if (typeof method !== 'function') continue;
      counted[name] = (...args: unknown[]) => {
        calls.push(name);
        return (method as (...a: unknown[]) => Promise<unknown>)(...args);
      };
    }
    for (const [name, batch] of Object.entries(batched))
      (counted[BATCHED] as Record<string, unknown>)[name] = (list: readonly (readonly unknown[])[]) => {
        calls.push(`${name}×${list.length}`);
        return batch(list);
      };
    return counted;
  };
  const store: TransactionalStore<Record<string | symbol, unknown>> = {
    ...inner,
    // The autocommit repository too: what a `prepare` step reads.
    repo: countedRepo(inner.repo),
    transaction: (fn) => inner.transaction((tx) => fn({ ...tx, repo: countedRepo(tx.repo) })),
  };
  return { env: { ...t.env, stores: { ...t.env.stores, [service]: store } }, calls };
}

const itemsOf = (
  fn: typeof shipOrder | typeof applyPaymentResult | typeof processPayment,
  events: unknown[],
) =>
  // biome-ignore lint/suspicious/noExplicitAny: the factories' events are the functions' own
  events.map((message: any) => ({ message, meta: eventInvocationMeta(fn, message) }));

describe("a consumer batch with batchItems: 'by-key'", () => {
  it('given 10 paid orders, when ship-order handles their events in one batch, then each kind of call is one statement', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `ship-${i}`);
    for (const id of ids) await seedOrder(t.orders, { id, status: 'CONFIRMED', paymentStatus: 'PAID' });
    const { env, calls } = counting('orders');

    const outcomes = await invokeEventBatch(
      shipOrder,
      itemsOf(
        shipOrder,
        ids.map((orderId) => paymentCompleted({ orderId })),
      ),
      env,
    );

    expect(outcomes).toEqual(Array(10).fill('handled'));
    expect(calls).toEqual(['lockOrder×10', 'findShipment×10', 'insertShipment×10', 'updateOrder×10']);
    for (const id of ids) expect(await t.orders.findOrder(id)).toMatchObject({ status: 'SHIPPED' });
  });

  it('given two events of one order in a batch, then the second runs after the first and finds its shipment', async () => {
    await seedOrder(t.orders, { id: 'twice', status: 'CONFIRMED', paymentStatus: 'PAID' });
    await seedOrder(t.orders, { id: 'other', status: 'CONFIRMED', paymentStatus: 'PAID' });
    const events = [
      paymentCompleted({ orderId: 'twice' }),
      paymentCompleted({ orderId: 'other' }),
      // Its record's Kafka key is not the order's: it still waits for the first (the key is the payload's).
      { ...paymentCompleted({ orderId: 'twice' }), key: 'some-other-key' },
    ];

    expect(await invokeEventBatch(shipOrder, itemsOf(shipOrder, events), t.env)).toEqual([
      'handled',
      'handled',
      'handled',
    ]);
    expect(await t.orders.findOrder('twice')).toMatchObject({ status: 'SHIPPED' });
    expect(await t.orders.findOrder('other')).toMatchObject({ status: 'SHIPPED' });
  });

  it('given 10 pending orders, when apply-payment-result handles their PaymentCompleted in one batch, then all are PAID in two statements', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `apply-${i}`);
    for (const id of ids) await seedOrder(t.orders, { id });
    const { env, calls } = counting('orders');

    await invokeEventBatch(
      applyPaymentResult,
      itemsOf(
        applyPaymentResult,
        ids.map((orderId) => paymentCompleted({ orderId })),
      ),
      env,
    );

    expect(calls).toEqual(['lockOrder×10', 'updateOrder×10']);
    for (const id of ids)
      expect(await t.orders.findOrder(id)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
  });

  it('given 10 payment requests in one batch, then their prepare lookups are one read, their payments one insert, and each emits its event', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `pay-${i}`);
    const { env, calls } = counting('payments');

    await invokeEventBatch(
      processPayment,
      itemsOf(
        processPayment,
        ids.map((orderId) => paymentRequested({ orderId, amount: '50.00' })),
      ),
      env,
    );

    expect(calls).toEqual(['findPaymentByOrder×10', 'insertPayment×10']);
    const completed = await outboxEvents(t.db.payments, [PaymentCompleted]);
    expect(completed.map((event) => event.key).sort()).toEqual([...ids].sort());
  });

  it('given one order whose handler fails, then the batch fails at that item and nothing of it commits', async () => {
    await seedOrder(t.orders, { id: 'fine', status: 'CONFIRMED', paymentStatus: 'PAID' });
    const events = [paymentCompleted({ orderId: 'fine' }), paymentCompleted({ orderId: 'no-such-order' })];

    const failure = await invokeEventBatch(shipOrder, itemsOf(shipOrder, events), t.env).catch((e) => e);

    expect(failure).toMatchObject({ name: 'BatchItemError', index: 1 });
    expect(await t.orders.findShipment('fine')).toBeUndefined();
  });
});
