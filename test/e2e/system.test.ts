/**
 * End to end: the all-in-one system in this process — embedded Kafka-protocol broker, the real kafkajs
 * client, PGlite, every function of the manifest, HTTP on a free port. No mocks anywhere.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../app/system.ts';
import type { PostgresStore } from '../../db/postgres/store-base.ts';
import { manifest } from '../../functions/manifest.ts';
import type { RunningBroker } from '../../local/kafka-broker/index.ts';
import { createKafkaClient } from '../../runtime/kafka/client.ts';
import { testLogger, waitFor } from '../../runtime/kafka/test-kit.ts';
import { type EmbeddedSystem, startEmbeddedSystem } from './embedded-system.ts';

const ORDERS = 200;
/** Mixed amounts around the 300 limit, in several shapes a client may send. */
const amountOf = (i: number): number | string =>
  [50, '300.00', '300.01', 1000, 12.34, '299.99', 301, '0.01'][i % 8]!;
const succeeds = (amount: number | string) => Number(amount) <= 300;

interface OrderView {
  status: string;
  paymentStatus: string;
  shipment?: { trackingId: string };
}

let running: EmbeddedSystem;
let broker: RunningBroker;
let system: RunningSystem;
let url: string;

beforeAll(async () => {
  running = await startEmbeddedSystem({ partitions: 3 });
  ({ broker, system, url } = running);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

async function rows<T>(service: string, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await (system.stores[service] as PostgresStore<unknown>).db.execute(query);
  return (result as unknown as { rows: T[] }).rows;
}

describe('the whole system on the embedded broker', () => {
  it(`takes ${ORDERS} orders with mixed amounts to their terminal states, one payment each`, async () => {
    const created = await Promise.all(
      Array.from({ length: ORDERS }, async (_, i) => {
        const response = await fetch(`${url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-correlation-id': `e2e-${i}` },
          body: JSON.stringify({ orderId: `e2e-${i}`, amount: amountOf(i) }),
        });
        expect(response.status).toBe(201);
        const body = (await response.json()) as { orderId: string; order: { status: string } };
        expect(body.order.status).toBe('PENDING');
        return { orderId: body.orderId, amount: amountOf(i) };
      }),
    );

    const terminal = await waitFor(
      async () => {
        const views = await Promise.all(
          created.map(
            async ({ orderId }) => (await (await fetch(`${url}/orders/${orderId}`)).json()) as OrderView,
          ),
        );
        const done = views.filter((v) => v.status === 'SHIPPED' || v.status === 'CANCELLED');
        return done.length === ORDERS ? views : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );

    for (const [i, view] of terminal.entries()) {
      const expected = succeeds(created[i]!.amount)
        ? { status: 'SHIPPED', paymentStatus: 'PAID' }
        : { status: 'CANCELLED', paymentStatus: 'FAILED', failureReason: 'insufficient funds' };
      expect(view, `order ${created[i]!.orderId}`).toMatchObject(expected);
      if (expected.status === 'SHIPPED') expect(view.shipment?.trackingId).toMatch(/^TRK-/);
    }

    const payments = await rows<{ order_id: string; n: string }>(
      'payments',
      sql`select order_id, count(*) as n from payments.payments group by order_id`,
    );
    expect(payments).toHaveLength(ORDERS);
    expect(payments.every((p) => Number(p.n) === 1)).toBe(true);

    const failed = created.filter((o) => !succeeds(o.amount)).map((o) => o.orderId);
    const notifications = await rows<{ order_id: string; n: string }>(
      'orders',
      sql`select order_id, count(*) as n from orders.notifications group by order_id`,
    );
    expect(notifications.map((n) => n.order_id).sort()).toEqual([...failed].sort());
    expect(notifications.every((n) => Number(n.n) === 1)).toBe(true);

    // Nothing was dead-lettered and every outbox row reached Kafka.
    const admin = createKafkaClient({
      brokers: broker.brokers,
      clientId: 'e2e-check',
      logger: testLogger(),
    }).admin();
    await admin.connect();
    try {
      for (const fn of manifest) {
        if (fn.kind !== 'event') continue;
        const offsets = await admin.fetchTopicOffsets(fn.deadLetterTopic);
        expect(
          offsets.map((o) => o.high),
          fn.deadLetterTopic,
        ).toEqual(offsets.map(() => '0'));
      }
    } finally {
      await admin.disconnect();
    }
    for (const service of ['orders', 'payments']) {
      await waitFor(
        async () => ((await system.stores[service]!.outbox.pendingCount()) === 0 ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
    }
  }, 180_000);
});
