/**
 * create-order against a PostgreSQL server (`DATABASE_URL=postgres://…`): what PGlite cannot show, because it
 * runs one transaction at a time. A request whose Idempotency-Key is still in flight gets a 409 at once,
 * instead of waiting for the first one and replaying it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PaymentRequested } from '../../contracts/events.ts';
import { newOrder, sleep } from '../../db/contract/fixtures.ts';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { createPaymentsStore } from '../../db/payments/store.pg.ts';
import { isPostgresUrl, openPostgres, type PostgresDatabase } from '../../db/postgres/connect.ts';
import { migrate } from '../../db/postgres/migrate.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../db/postgres/scratch-database.ts';
import { truncateServiceTables } from '../../db/postgres/test-database.ts';
import {
  createTestEnv,
  type HttpTestResponse,
  invokeHttp,
  type TestEnv,
} from '../../runtime/testing/index.ts';
import { outboxEvents } from '../__fixtures__/setup.ts';
import { createOrder } from './index.ts';

const url = process.env.DATABASE_URL;
const usable = url !== undefined && isPostgresUrl(url);
if (!usable)
  console.log('[skipped] create-order on a PostgreSQL server: DATABASE_URL is not a postgres:// URL');

describe.skipIf(!usable)('create-order on a PostgreSQL server', () => {
  let scratch: ScratchDatabase | undefined;
  let conn: PostgresDatabase | undefined;
  let blocker: PostgresDatabase | undefined;
  let env: TestEnv;
  const KEY = { 'idempotency-key': 'key-in-flight' };
  const post = (body: unknown, headers: Record<string, string> = KEY) =>
    invokeHttp(createOrder, { body, headers }, env);
  const requested = () => outboxEvents(env.stores.orders!, [PaymentRequested]);

  beforeAll(async () => {
    scratch = await createScratchDatabase(url!);
    conn = await openPostgres({ url: scratch.url, maxConnections: 12 });
    blocker = await openPostgres({ url: scratch.url, maxConnections: 2 });
    await migrate(createOrdersStore(conn.db));
    await migrate(createPaymentsStore(conn.db));
  });
  /** Releases of every hold, so a failed test cannot leave a transaction open for the next one. */
  const holds: (() => void)[] = [];
  afterEach(() => {
    for (const release of holds.splice(0)) release();
  });
  beforeEach(async () => {
    await truncateServiceTables(conn!.db);
    env = createTestEnv({ stores: [createOrdersStore(conn!.db), createPaymentsStore(conn!.db)] });
  });
  afterAll(async () => {
    await conn?.close();
    await blocker?.close();
    await scratch?.drop();
  });

  /**
   * Holds the first request in flight: another connection inserts its order id without committing, so the
   * request's own insert waits for it. Resolves once a backend of this database waits for a lock.
   */
  async function holdOrderId(orderId: string): Promise<{ release(): Promise<void> }> {
    let release!: () => void;
    let inserted!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const held = createOrdersStore(blocker!.db)
      .transaction(async (tx) => {
        await tx.repo.insertOrder(newOrder({ id: orderId, amountMinor: 5000n }));
        inserted();
        await gate;
        throw new Error('rolled back on purpose');
      })
      .catch(() => {});
    await ready;
    holds.push(release);
    return {
      async release() {
        release();
        await held;
      },
    };
  }

  async function someoneWaitsForALock(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const result = (await conn!.db.execute(
        sql`select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      )) as unknown as { rows: { waiting: number }[] };
      if (Number(result.rows[0]?.waiting) > 0) return;
      await sleep(20);
    }
    throw new Error('the first request never started waiting');
  }

  /** The response, or 'still waiting' if there is none within `ms`. */
  const within = (ms: number, response: Promise<HttpTestResponse>) =>
    Promise.race([response, sleep(ms).then(() => 'still waiting' as const)]);

  it('a second request with a key still in flight is a 409 at once; after the first, it is a replay', async () => {
    const hold = await holdOrderId('order-held');
    const first = post({ amount: 50, orderId: 'order-held' });
    await someoneWaitsForALock();

    const started = performance.now();
    const second = post({ amount: 50, orderId: 'order-held' });
    const answered = await within(2_000, second);
    const ms = performance.now() - started;
    await hold.release();
    const [firstResponse, secondResponse] = await Promise.all([first, second]);
    const third = await post({ amount: 50, orderId: 'order-held' });

    expect(answered).not.toBe('still waiting');
    expect(secondResponse.status).toBe(409);
    expect(secondResponse.body).toMatchObject({ status: 'error', code: 'idempotency_key_in_use' });
    expect(ms).toBeLessThan(1_000);
    console.info(`[create-order] 409 for a key in flight after ${ms.toFixed(0)} ms`);
    expect(firstResponse.status).toBe(201);
    expect(third.status).toBe(201);
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(third.body).toEqual(firstResponse.body);
    expect(await requested()).toHaveLength(1);
  });

  it('a request with another body while the key is in flight is a 409 too, and leaves the key to the first', async () => {
    const hold = await holdOrderId('order-held');
    const first = post({ amount: 50, orderId: 'order-held' });
    await someoneWaitsForALock();
    const other = await within(2_000, post({ amount: 70 }));
    await hold.release();
    const firstResponse = await first;

    expect(other).not.toBe('still waiting');
    expect((other as HttpTestResponse).status).toBe(409);
    expect(firstResponse.status).toBe(201);
    expect((await post({ amount: 70 })).status).toBe(422);
  });

  it('10 identical POSTs at once with one key: one order; the others replay it or get 409, none waits', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => post({ amount: 50 })));

    const created = responses.filter(
      (r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined,
    );
    const replayed = responses.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === 'true');
    const inUse = responses.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(replayed.length + inUse.length).toBe(9);
    for (const r of replayed) expect(r.body).toEqual(created[0]!.body);
    for (const r of inUse) expect(r.body.code).toBe('idempotency_key_in_use');
    expect(await requested()).toHaveLength(1);
    console.info(
      `[create-order] 10 concurrent POSTs, one key: ${replayed.length} replayed, ${inUse.length} × 409`,
    );
  });
});
