/**
 * create-order under group commit on a PostgreSQL server (`DATABASE_URL=postgres://…`): concurrent requests
 * share transactions, and each is answered only once its order is visible to another connection.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PaymentRequested } from '../../contracts/events.ts';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { createPaymentsStore } from '../../db/payments/store.pg.ts';
import { isPostgresUrl, openPostgres, type PostgresDatabase } from '../../db/postgres/connect.ts';
import { migrate } from '../../db/postgres/migrate.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../db/postgres/scratch-database.ts';
import { truncateServiceTables } from '../../db/postgres/test-database.ts';
import { createTestEnv, invokeHttp, type TestEnv } from '../../runtime/testing/index.ts';
import { outboxEvents } from '../__fixtures__/setup.ts';
import { createOrder } from './index.ts';

const url = process.env.DATABASE_URL;
const usable = url !== undefined && isPostgresUrl(url);
if (!usable)
  console.log('[skipped] create-order group commit on PostgreSQL: DATABASE_URL is not a postgres:// URL');

describe.skipIf(!usable)('create-order group commit on a PostgreSQL server', () => {
  let scratch: ScratchDatabase | undefined;
  let conn: PostgresDatabase | undefined;
  let observer: PostgresDatabase | undefined;
  let env: TestEnv;
  const post = (body: unknown) => invokeHttp(createOrder, { body }, env);

  beforeAll(async () => {
    scratch = await createScratchDatabase(url!);
    conn = await openPostgres({ url: scratch.url, maxConnections: 12 });
    observer = await openPostgres({ url: scratch.url, maxConnections: 4 });
    await migrate(createOrdersStore(conn.db));
    await migrate(createPaymentsStore(conn.db));
  });
  beforeEach(async () => {
    await truncateServiceTables(conn!.db);
    env = createTestEnv({ stores: [createOrdersStore(conn!.db), createPaymentsStore(conn!.db)] });
  });
  afterAll(async () => {
    await conn?.close();
    await observer?.close();
    await scratch?.drop();
  });

  /** True when another connection sees the order (and its outbox row) committed. */
  async function visibleElsewhere(orderId: string): Promise<boolean> {
    const result = (await observer!.db.execute(
      sql`select (select count(*) from orders.orders where id = ${orderId})::int as orders,
                 (select count(*) from orders.outbox where key = ${orderId})::int as outbox`,
    )) as unknown as { rows: { orders: number; outbox: number }[] };
    return result.rows[0]?.orders === 1 && result.rows[0]?.outbox === 1;
  }

  it('given 30 concurrent POSTs, then fewer transactions commit them, and each answer comes after its commit', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `pg-order-${i}`);
    const answers = await Promise.all(
      ids.map(async (orderId) => {
        const response = await post({ amount: 50, orderId });
        return { status: response.status, visible: await visibleElsewhere(orderId) };
      }),
    );

    expect(answers).toEqual(ids.map(() => ({ status: 201, visible: true })));
    // Every commit here wrote outbox rows, so the test environment recorded each one.
    const transactions = env.committed.length;
    console.info(`[create-order] 30 concurrent POSTs on PostgreSQL: ${transactions} transactions`);
    expect(transactions).toBeLessThan(30);
    const events = await outboxEvents(env.stores.orders!, [PaymentRequested]);
    expect(events.map((e) => e.key).sort()).toEqual([...ids].sort());
  });

  it('given one conflicting request among concurrent ones, then it gets its 409 and the others are created', async () => {
    await post({ amount: 50, orderId: 'pg-taken' });
    const bodies = [
      { amount: 10, orderId: 'pg-a' },
      { amount: 10, orderId: 'pg-b' },
      { amount: 70, orderId: 'pg-taken' },
      { amount: 10, orderId: 'pg-c' },
    ];
    const responses = await Promise.all(bodies.map((body) => post(body)));

    expect(responses.map((r) => r.status)).toEqual([201, 201, 409, 201]);
    for (const orderId of ['pg-a', 'pg-b', 'pg-c']) expect(await visibleElsewhere(orderId)).toBe(true);
  });
});
