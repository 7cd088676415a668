/**
 * create-order under group commit (runtime/group-commit.ts), over the real orders store on PGlite: concurrent
 * requests share transactions, and each still gets the answer it would get alone.
 */
import { describe, expect, it } from 'vitest';
import { PaymentRequested } from '../../contracts/events.ts';
import { BATCHED, type BatchedMethods, type TransactionalStore } from '../../runtime/store.ts';
import { invokeHttp, type TestEnv } from '../../runtime/testing/index.ts';
import { outboxEvents, setupFunctionTest } from '../__fixtures__/setup.ts';
import { createOrder } from './index.ts';

const t = setupFunctionTest();
const requested = () => outboxEvents(t.db.orders, [PaymentRequested]);

/**
 * The test environment as a new object, hence with a new group committer. `committed` records each commit that
 * wrote outbox rows: here every transaction, since each request it holds emits an event.
 */
function fresh(): TestEnv {
  const committed: string[] = [];
  return { ...t.env, committed, onCommitted: (service) => committed.push(service) };
}

/**
 * `fresh()` over an orders store that counts the order inserts its transactions run: one per single
 * `insertOrder`, and one per batched call (with its size).
 */
function countingInserts(): { env: TestEnv; single: () => number; batches: number[] } {
  const orders = t.db.orders as unknown as TransactionalStore<Record<string | symbol, unknown>>;
  let single = 0;
  const batches: number[] = [];
  const store: TransactionalStore<Record<string | symbol, unknown>> = {
    ...orders,
    transaction: (fn) =>
      orders.transaction((tx) => {
        const repo = tx.repo;
        const batched = repo[BATCHED] as BatchedMethods;
        const counted = {
          ...repo,
          insertOrder: (...args: unknown[]) => {
            single += 1;
            return (repo.insertOrder as (...a: unknown[]) => Promise<unknown>)(...args);
          },
          [BATCHED]: {
            insertOrder: (calls: readonly (readonly unknown[])[]) => {
              batches.push(calls.length);
              return batched.insertOrder!(calls);
            },
          },
        };
        return fn({ ...tx, repo: counted });
      }),
  };
  const env = fresh();
  return { env: { ...env, stores: { ...env.stores, orders: store } }, single: () => single, batches };
}

describe('create-order, many requests at once', () => {
  it('given 20 concurrent POSTs, then the orders of a group are inserted in one statement', async () => {
    const { env, single, batches } = countingInserts();
    const ids = Array.from({ length: 20 }, (_, i) => `batched-${i}`);
    const responses = await Promise.all(
      ids.map((orderId) => invokeHttp(createOrder, { body: { amount: 50, orderId } }, env)),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    // The first runs alone (one insert); the 19 that queued behind it go as one group, one statement.
    console.info(`[create-order] 20 concurrent POSTs: ${single()} single inserts, batches ${batches}`);
    expect(single() + batches.length).toBeLessThanOrEqual(3);
    expect(batches.reduce((sum, n) => sum + n, 0) + single()).toBe(20);
    for (const orderId of ids) expect(await t.orders.findOrder(orderId)).toMatchObject({ status: 'PENDING' });
    expect((await requested()).map((e) => e.key).sort()).toEqual([...ids].sort());
  });

  it('given 20 concurrent POSTs, then they commit in fewer transactions, each order with its event', async () => {
    const env = fresh();
    const ids = Array.from({ length: 20 }, (_, i) => `order-${i}`);
    const responses = await Promise.all(
      ids.map((orderId) => invokeHttp(createOrder, { body: { amount: 50, orderId } }, env)),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    // The first runs alone; the others arrive while it is in flight and share the next transactions.
    const transactions = env.committed.length;
    console.info(`[create-order] 20 concurrent POSTs: ${transactions} transactions`);
    expect(transactions).toBeLessThanOrEqual(4);
    for (const orderId of ids) expect(await t.orders.findOrder(orderId)).toMatchObject({ status: 'PENDING' });
    const events = await requested();
    expect(events.map((e) => e.key).sort()).toEqual([...ids].sort());
  });

  it('given one request conflicting with an existing order, then it alone gets its 409 and the others are created', async () => {
    const env = fresh();
    await invokeHttp(createOrder, { body: { amount: 50, orderId: 'taken' } }, env);
    const bodies = [
      { amount: 10, orderId: 'a' },
      { amount: 10, orderId: 'b' },
      { amount: 70, orderId: 'taken' },
      { amount: 10, orderId: 'c' },
      { amount: 50, orderId: 'taken' },
    ];
    const responses = await Promise.all(bodies.map((body) => invokeHttp(createOrder, { body }, env)));

    expect(responses.map((r) => r.status)).toEqual([201, 201, 409, 201, 200]);
    expect(responses[2]?.body.message).toContain('Order taken already exists with amount 50.00 USD');
    expect((await requested()).map((e) => e.key).sort()).toEqual(['a', 'b', 'c', 'taken']);
  });

  it('given two new orders with one id and different terms in one group, then the first is created and the second is a 409', async () => {
    const env = fresh();
    const [, first, second] = await Promise.all([
      invokeHttp(createOrder, { body: { amount: 10, orderId: 'lead' } }, env),
      invokeHttp(createOrder, { body: { amount: 10, orderId: 'twin' } }, env),
      invokeHttp(createOrder, { body: { amount: 20, orderId: 'twin' } }, env),
    ]);

    expect(first?.status).toBe(201);
    expect(second?.status).toBe(409);
    expect(await t.orders.findOrder('twin')).toMatchObject({ amountMinor: 1000n });
    expect((await requested()).filter((e) => e.key === 'twin')).toHaveLength(1);
  });
});
