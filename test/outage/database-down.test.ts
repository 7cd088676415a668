/**
 * Issue 9, defect 2 (HTTP side): while the orders database cannot be reached, the HTTP functions answer 503 with
 * `Retry-After` and the one JSON error body — not a 500 — and `/readyz` names the database as down. A real
 * `pg` pool against a port nothing listens on (no server needed); the store classifies ECONNREFUSED.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { openPostgres, type PostgresDatabase } from '../../db/postgres/connect.ts';
import { createOrder } from '../../functions/create-order/index.ts';
import { getOrder } from '../../functions/get-order/index.ts';
import { createHttpApp } from '../../runtime/http/app.ts';
import { createTestEnv } from '../../runtime/testing/index.ts';

/** A local port with nothing listening on it (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let database: PostgresDatabase;
let app: ReturnType<typeof createHttpApp>;
beforeAll(async () => {
  database = await openPostgres({ url: `postgres://postgres@127.0.0.1:${await closedPort()}/orders` });
  const env = createTestEnv({ stores: [createOrdersStore(database.db)] });
  app = createHttpApp({ functions: [createOrder, getOrder], env });
});
afterAll(() => database?.close());

describe('HTTP functions while their database is unreachable', () => {
  it.each([
    ['POST /orders', () => app.request('/orders', json({ orderId: 'down-1', amount: 50 }))],
    ['POST /order', () => app.request('/order', json({ OrderId: 'down-2', Amount: 50 }))],
    ['GET /orders/:id', () => app.request('/orders/down-1')],
  ])('%s answers 503 with Retry-After and the JSON error body', async (_route, send) => {
    const response = await send();
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toEqual({
      status: 'error',
      code: 'unavailable',
      message: 'The orders database is unavailable',
      requestId: expect.any(String),
    });
  });

  it('/readyz reports the database as down', async () => {
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('unavailable');
    expect(body.checks.orders).toMatch(/ECONNREFUSED|connect/i);
  });
});

function json(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
