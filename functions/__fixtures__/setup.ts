/**
 * Per-function test setup: one migrated PGlite database per test file (real stores, no mocks), emptied and
 * given a fresh environment (clock, silent logger, ports) before each test.
 * @module
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { OrdersRepo } from '../../db/orders/repo.ts';
import type { PaymentsRepo } from '../../db/payments/repo.ts';
import { createTestDatabase, type TestDatabase } from '../../db/postgres/test-database.ts';
import { decodeEvent, type RawEventMessage } from '../../runtime/codec.ts';
import type { EventDefinition, EventMessage, Ports, TransactionalStore } from '../../runtime/index.ts';
import type { OutboxRecord } from '../../runtime/store.ts';
import { createTestEnv, type TestEnv } from '../../runtime/testing/index.ts';

export interface FunctionTest {
  readonly db: TestDatabase;
  readonly env: TestEnv;
  readonly orders: OrdersRepo;
  readonly payments: PaymentsRepo;
}

/**
 * Registers the hooks and returns a handle whose fields are valid inside tests.
 * @example
 * const t = setupFunctionTest({ ports: () => ({ paymentProvider: createSimulatedProvider() }) });
 * it('…', async () => { await invokeEvent(fn, event, t.env); expect(await t.orders.findOrder('o-1')).toMatchObject(…) });
 */
export function setupFunctionTest(options: { ports?: () => Partial<Ports> } = {}): FunctionTest {
  let db: TestDatabase | undefined;
  let env: TestEnv | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  beforeEach(async () => {
    await db!.reset();
    env = createTestEnv({ stores: [db!.orders, db!.payments], ports: options.ports?.() ?? {} });
  });
  afterAll(async () => {
    await db?.close();
  });
  return {
    get db() {
      return db!;
    },
    get env() {
      return env!;
    },
    get orders() {
      return db!.orders.repo;
    },
    get payments() {
      return db!.payments.repo;
    },
  };
}

/** The unpublished outbox rows of a store, oldest first, left unpublished (leased, then released at once). */
export async function outboxRecords(store: TransactionalStore<unknown>): Promise<OutboxRecord[]> {
  const records = await store.outbox.claim(10_000, 60_000);
  await store.outbox.release(records.map((record) => record.id));
  return records;
}

/** The events waiting in a store's outbox, decoded as a consumer of `accepted` would see them. */
export async function outboxEvents(
  store: TransactionalStore<unknown>,
  accepted: readonly EventDefinition[],
): Promise<EventMessage[]> {
  return (await outboxRecords(store)).map((record) => {
    const decoded = decodeEvent(toRaw(record), accepted);
    if (!decoded.ok) throw new Error(`outbox row ${record.id} does not decode: ${decoded.reason}`);
    return decoded.message;
  });
}

/** An outbox row as a Kafka consumer would receive it (what a relay publishes). */
export function toRaw(record: OutboxRecord): RawEventMessage {
  return {
    key: Buffer.from(record.key),
    value: Buffer.from(record.value),
    headers: Object.fromEntries(
      Object.entries(record.headers).map(([name, value]) => [name, Buffer.from(value)]),
    ),
  };
}
