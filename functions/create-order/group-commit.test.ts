/**
 * create-order under group commit (runtime/group-commit.ts), over the real orders store on PGlite: concurrent
 * requests share transactions, and each still gets the answer it would get alone.
 */
import { describe, expect, it } from 'vitest';
import { PaymentRequested } from '../../contracts/events.ts';
import { createMetrics, type Metrics } from '../../runtime/metrics/metrics.ts';
import { invokeHttp, type TestEnv } from '../../runtime/testing/index.ts';
import { outboxEvents, setupFunctionTest } from '../__fixtures__/setup.ts';
import { createOrder } from './index.ts';

const t = setupFunctionTest();
const requested = () => outboxEvents(t.db.orders, [PaymentRequested]);

/** The test environment with metrics, as a new environment (hence a new group committer). */
function measured(): { env: TestEnv; metrics: Metrics } {
  const metrics = createMetrics({ defaultMetrics: false });
  return { env: { ...t.env, metrics }, metrics };
}

/** Committed transactions of the orders store, from the metrics registry. */
async function commits(metrics: Metrics): Promise<number> {
  const metric = metrics.registry.getSingleMetric('orderflow_db_transaction_duration_seconds');
  const { values } = await metric!.get();
  return values
    .filter(
      (v) =>
        (v as { metricName?: string }).metricName?.endsWith('_count') &&
        v.labels.service === 'orders' &&
        v.labels.outcome === 'commit',
    )
    .reduce((sum, v) => sum + v.value, 0);
}

describe('create-order, many requests at once', () => {
  it('given 20 concurrent POSTs, then they commit in fewer transactions, each order with its event', async () => {
    const { env, metrics } = measured();
    const ids = Array.from({ length: 20 }, (_, i) => `order-${i}`);
    const responses = await Promise.all(
      ids.map((orderId) => invokeHttp(createOrder, { body: { amount: 50, orderId } }, env)),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    // The first runs alone; the others arrive while it is in flight and share the next transactions.
    const transactions = await commits(metrics);
    console.info(`[create-order] 20 concurrent POSTs: ${transactions} transactions`);
    expect(transactions).toBeLessThanOrEqual(4);
    expect(env.committed).toHaveLength(transactions);
    for (const orderId of ids) expect(await t.orders.findOrder(orderId)).toMatchObject({ status: 'PENDING' });
    const events = await requested();
    expect(events.map((e) => e.key).sort()).toEqual([...ids].sort());
  });

  it('given one request conflicting with an existing order, then it alone gets its 409 and the others are created', async () => {
    const { env } = measured();
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
    const { env } = measured();
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
