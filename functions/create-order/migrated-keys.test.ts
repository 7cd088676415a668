/**
 * Keys written before migration `…_idempotency_keys_scope_expiry_response` (unscoped, no stored answer, no
 * expiry): the migration keeps each for both routes, for 24 h from its creation, and create-order replays
 * them as it did when they were written (200, the order's current view). Runs the real migrations on PGlite.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { createPaymentsStore } from '../../db/payments/store.pg.ts';
import { openPostgres, type PostgresDatabase } from '../../db/postgres/connect.ts';
import { migrate, migrationsFolder } from '../../db/postgres/migrate.ts';
import { createTestEnv, invokeHttp } from '../../runtime/testing/index.ts';
import { createOrder } from './index.ts';
import { requestHash } from './schema.ts';

const MIGRATION = /_idempotency_keys_scope_expiry_response$/;
const CREATED = new Date('2030-01-01T00:00:00.000Z');
const HOUR = 3_600_000;

describe('Idempotency-Keys from before the scoped, expiring keys', () => {
  let conn: PostgresDatabase;
  let before: string;
  beforeAll(async () => {
    // The orders migrations up to the one before this change.
    before = mkdtempSync(join(tmpdir(), 'orderflow-keys-'));
    for (const entry of readdirSync(migrationsFolder('orders')).sort()) {
      if (MIGRATION.test(entry)) break;
      cpSync(join(migrationsFolder('orders'), entry), join(before, entry), { recursive: true });
    }
    conn = await openPostgres({ memory: true });
    await migrate(createOrdersStore(conn.db), { migrationsFolder: before });
    const hash = requestHash({ orderId: undefined, amountMinor: 5000n, currency: 'USD' });
    await conn.db.execute(sql`insert into orders.orders (id, amount_minor, currency, created_at, updated_at)
      values ('ord-old', 5000, 'USD', ${CREATED.toISOString()}, ${CREATED.toISOString()})`);
    await conn.db.execute(sql`insert into orders.idempotency_keys (key, request_hash, order_id, created_at)
      values ('old-key', ${hash}, 'ord-old', ${CREATED.toISOString()}),
             ('older-key', ${hash}, 'ord-old', ${new Date(CREATED.getTime() - 25 * HOUR).toISOString()})`);
    await migrate(createOrdersStore(conn.db));
    await migrate(createPaymentsStore(conn.db));
  });
  afterAll(async () => {
    await conn?.close();
    rmSync(before, { recursive: true, force: true });
  });

  it('the migration keeps each old key for both routes, unanswered, expiring 24 h after its creation', async () => {
    const rows = (await conn.db.execute(sql`select client_id, route, key, response_status, response_body,
        created_at = ${CREATED.toISOString()} as new_one, expires_at - created_at = interval '24 hours' as day
      from orders.idempotency_keys order by key, route`)) as unknown as { rows: Record<string, unknown>[] };
    const row = (route: string, key: string, newOne: boolean) => ({
      client_id: '',
      route,
      key,
      response_status: null,
      response_body: null,
      new_one: newOne,
      day: true,
    });
    expect(rows.rows).toEqual([
      row('POST /order', 'old-key', true),
      row('POST /orders', 'old-key', true),
      row('POST /order', 'older-key', false),
      row('POST /orders', 'older-key', false),
    ]);
  });

  it('a retry with an old key replays as it did then (200, current view), on either route, until it expires', async () => {
    const env = createTestEnv({
      stores: [createOrdersStore(conn.db), createPaymentsStore(conn.db)],
      now: new Date(CREATED.getTime() + HOUR),
    });
    const post = (path: string, key: string) =>
      invokeHttp(createOrder, { path, body: { amount: 50 }, headers: { 'idempotency-key': key } }, env);

    const orders = await post('/orders', 'old-key');
    const order = await post('/order', 'old-key');
    const expired = await post('/orders', 'older-key');

    for (const res of [orders, order]) {
      expect(res.status).toBe(200);
      expect(res.headers['idempotent-replayed']).toBe('true');
      expect(res.body).toMatchObject({ orderId: 'ord-old', order: { status: 'PENDING' } });
    }
    expect(expired.status).toBe(201);
    expect(expired.body.orderId).not.toBe('ord-old');
  });
});
