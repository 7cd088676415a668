/**
 * Store transactions run at READ COMMITTED on PGlite although no SET TRANSACTION is sent there (PGlite's
 * default); they still commit and roll back as a unit.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ordersAttempts, ordersInbox, ordersOutbox } from '../orders/schema.pg.ts';
import type { PgDatabase } from './connect.ts';
import { createPostgresStore } from './store-base.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
}, 60_000);
afterAll(() => t?.close());

describe('createPostgresStore on PGlite', () => {
  it('runs transactions at READ COMMITTED', async () => {
    // A store whose repository is the transaction's drizzle handle, to ask the database inside it.
    const store = createPostgresStore({
      service: 'probe',
      db: t.db,
      tables: { outbox: ordersOutbox, inbox: ordersInbox, attempts: ordersAttempts },
      createRepo: (db: PgDatabase) => db,
    });
    const level = await store.transaction(async (tx) => {
      const result = (await tx.repo.execute(
        sql`select current_setting('transaction_isolation') as level`,
      )) as unknown as { rows: { level: string }[] };
      return result.rows[0]!.level;
    });
    expect(level).toBe('read committed');
  });

  it('rolls the whole transaction back when its body throws', async () => {
    await expect(
      t.orders.transaction(async (tx) => {
        await tx.repo.insertOrder({ id: 'rb-1', amountMinor: 100n, currency: 'USD', createdAt: new Date() });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await t.orders.repo.findOrder('rb-1')).toBeUndefined();
  });
});
