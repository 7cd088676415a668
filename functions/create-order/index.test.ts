import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { PaymentRequested } from '../../contracts/events.ts';
import { orderViewSchema } from '../../contracts/order-view.ts';
import { createHttpApp } from '../../runtime/http/app.ts';
import { createTestEnv, invokeHttp } from '../../runtime/testing/index.ts';
import { outboxEvents, setupFunctionTest } from '../__fixtures__/setup.ts';
import { createOrder } from './index.ts';

const t = setupFunctionTest();
const post = (body: unknown, headers: Record<string, string> = {}, path?: string) =>
  invokeHttp(createOrder, { body, headers, ...(path === undefined ? {} : { path }) }, t.env);
const requested = () => outboxEvents(t.db.orders, [PaymentRequested]);
const DAY = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('create-order', () => {
  it('creates a PENDING order and requests its payment in the same transaction', async () => {
    const res = await post({ amount: 50, currency: 'USD', orderId: 'order-1' });

    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/orders/order-1');
    expect(res.body).toEqual({
      status: 'success',
      message: 'Order Created',
      orderId: 'order-1',
      order: {
        orderId: 'order-1',
        totalAmount: '50.00',
        currency: 'USD',
        status: 'PENDING',
        paymentStatus: 'NOT_PAID',
        createdAt: '2030-01-01T00:00:00.000Z',
        updatedAt: '2030-01-01T00:00:00.000Z',
      },
    });
    expect(await t.orders.findOrder('order-1')).toMatchObject({ amountMinor: 5000n, status: 'PENDING' });
    const events = await requested();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'PaymentRequested',
      key: 'order-1',
      data: { orderId: 'order-1', amount: '50.00', currency: 'USD' },
    });
  });

  it('generates a UUID order id and defaults the currency to USD', async () => {
    const res = await post({ amount: '12.5' });
    expect(res.status).toBe(201);
    expect(res.body.orderId).toMatch(UUID);
    expect(orderViewSchema.parse(res.body.order)).toMatchObject({ totalAmount: '12.50', currency: 'USD' });
  });

  it('accepts the compatibility alias POST /order with { OrderId, Amount }', async () => {
    const res = await post({ OrderId: '123', Amount: 50 }, {}, '/order');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'success', message: 'Order Created', orderId: '123' });
    expect(res.body.order).toMatchObject({ totalAmount: '50.00', currency: 'USD' });
  });

  it.each([
    [{ amount: 5000, currency: 'JPY' }, '5000'],
    [{ amount: '1.234', currency: 'KWD' }, '1.234'],
    [{ amount: 300.01 }, '300.01'],
    [{ amount: '999999999999.99' }, '999999999999.99'],
  ])('stores %j exactly, as %s', async (body, text) => {
    const res = await post(body);
    expect(res.status).toBe(201);
    expect(res.body.order.totalAmount).toBe(text);
    expect((await requested())[0]?.data).toMatchObject({ amount: text });
  });

  describe('rejects invalid requests with a 400 naming the field, and writes nothing', () => {
    it.each([
      ['malformed JSON', '{"amount": 5', {}, 'body'],
      ['an empty body', undefined, {}, 'body'],
      ['an array body', [{ amount: 5 }], {}, 'body'],
      ['a missing amount', { orderId: 'order-x' }, {}, 'amount'],
      ['a boolean amount', { amount: true, orderId: 'order-x' }, {}, 'amount'],
      ['an object amount', { amount: { value: 5 }, orderId: 'order-x' }, {}, 'amount'],
      ['a text amount', { amount: 'fifty', orderId: 'order-x' }, {}, 'amount'],
      ['a zero amount', { amount: 0, orderId: 'order-x' }, {}, 'amount'],
      ['a negative amount', { amount: -10, orderId: 'order-x' }, {}, 'amount'],
      ['a negative text amount', { amount: '-10.00', orderId: 'order-x' }, {}, 'amount'],
      ['a too precise amount', { amount: 10.123, orderId: 'order-x' }, {}, 'amount'],
      ['a fractional JPY amount', { amount: '1.5', currency: 'JPY', orderId: 'order-x' }, {}, 'amount'],
      ['a huge amount', { amount: 1e15, orderId: 'order-x' }, {}, 'amount'],
      ['an astronomically huge amount', { amount: 1e300, orderId: 'order-x' }, {}, 'amount'],
      ['an unknown currency', { amount: 5, currency: 'ZZZ', orderId: 'order-x' }, {}, 'currency'],
      ['a lower-case currency', { amount: 5, currency: 'usd', orderId: 'order-x' }, {}, 'currency'],
      ['a numeric currency', { amount: 5, currency: 840, orderId: 'order-x' }, {}, 'currency'],
      ['an order id with spaces', { amount: 5, orderId: 'order x' }, {}, 'orderId'],
      ['an over-long order id', { amount: 5, orderId: 'o'.repeat(65) }, {}, 'orderId'],
      ['an empty order id', { amount: 5, orderId: '' }, {}, 'orderId'],
      [
        'a bad idempotency key',
        { amount: 5, orderId: 'order-x' },
        { 'idempotency-key': 'has space' },
        'headers.idempotency-key',
      ],
    ])('%s', async (_, body, headers, path) => {
      const res = await post(body, headers);

      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 'error', code: 'validation_failed' });
      expect(typeof res.body.message).toBe('string');
      if (path !== 'body' || res.body.errors !== undefined) {
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
      }
      expect(await t.orders.findOrder('order-x')).toBeUndefined();
      expect(await t.db.orders.outbox.pendingCount()).toBe(0);
    });

    it.each([
      [{ amount: 0 }, 'must be positive'],
      [{ amount: -1 }, 'must be positive'],
      [{ amount: '300.001' }, 'too precise for USD (2 decimals)'],
      [{ amount: 1e13 }, 'too large: at most 12 digits before the decimal point'],
      [{ amount: 'ten' }, 'is not a number: expected a positive decimal such as 50 or "50.00"'],
    ])('explains the amount problem of %j', async (body, message) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'amount', message }]);
    });

    it('names an unknown currency', async () => {
      const res = await post({ amount: 1, currency: 'ABC' });
      expect(res.body.errors).toEqual([{ path: 'currency', message: 'unknown ISO 4217 currency "ABC"' }]);
    });
  });

  describe('sent twice', () => {
    it('with the same order id and terms, returns the original order with 200 and emits nothing more', async () => {
      const first = await post({ amount: 50, orderId: 'order-1' });
      t.env.advance(60_000);
      const second = await post({ amount: '50.00', currency: 'USD', orderId: 'order-1' });

      expect(first.status).toBe(201);
      expect(second.status).toBe(200);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await requested()).toHaveLength(1);
    });

    it.each([
      ['another amount', { amount: 51, orderId: 'order-1' }],
      ['another currency', { amount: 50, currency: 'EUR', orderId: 'order-1' }],
    ])('with the same order id and %s, is a 409 naming the order', async (_, body) => {
      await post({ amount: 50, orderId: 'order-1' });
      const res = await post(body);

      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ status: 'error', code: 'conflict' });
      expect(res.body.message).toContain('order-1');
      expect(await t.orders.findOrder('order-1')).toMatchObject({ amountMinor: 5000n, currency: 'USD' });
      expect(await requested()).toHaveLength(1);
    });

    it('a refused request does not consume its Idempotency-Key', async () => {
      await post({ amount: 50, orderId: 'order-1' });
      const key = { 'idempotency-key': 'key-2' };
      expect((await post({ amount: 99, orderId: 'order-1' }, key)).status).toBe(409);
      expect((await post({ amount: 99, orderId: 'order-2' }, key)).status).toBe(201);
    });
  });

  describe('Idempotency-Key, sent twice', () => {
    const KEY = { 'idempotency-key': 'key-1' };

    it('replays the first response as first sent: 201, the same bytes, Location and Idempotent-Replayed: true', async () => {
      const app = createHttpApp({ functions: [createOrder], env: t.env });
      const send = () =>
        app.request('/orders', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...KEY },
          body: JSON.stringify({ amount: 50 }),
        });
      const first = await send();
      const firstText = await first.text();
      const { orderId } = JSON.parse(firstText) as { orderId: string };
      // The order moves on; a replay still shows what the first answer said.
      t.env.advance(60_000);
      const paid = {
        status: 'CONFIRMED',
        paymentStatus: 'PAID',
        failureReason: null,
        updatedAt: t.env.clock(),
      } as const;
      await t.orders.updateOrder(orderId, { status: 'PENDING', paymentStatus: 'NOT_PAID' }, paid);
      const second = await send();

      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.headers.get('location')).toBe(`/orders/${orderId}`);
      expect(await second.text()).toBe(firstText);
      expect(JSON.parse(firstText).order.status).toBe('PENDING');
      expect((await t.orders.findOrder(orderId))?.status).toBe('CONFIRMED');
      expect(await requested()).toHaveLength(1);
    });

    it('treats the same request written differently as the same request', async () => {
      const first = await post({ amount: 50 }, KEY);
      const second = await post({ Amount: '50.00', currency: 'USD' }, KEY);

      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await requested()).toHaveLength(1);
    });

    it('replays a 200 as a 200: a new key on an existing order id stores that answer', async () => {
      await post({ amount: 50, orderId: 'order-1' });
      const first = await post({ amount: 50, orderId: 'order-1' }, KEY);
      const second = await post({ amount: 50, orderId: 'order-1' }, KEY);

      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
    });

    it('with another body, is a 422 (each time), creates nothing and leaves the first answer in place', async () => {
      const first = await post({ amount: 50 }, KEY);
      const res = await post({ amount: 60 }, KEY);
      const again = await post({ amount: 60 }, KEY);
      const original = await post({ amount: 50 }, KEY);

      expect([res.status, again.status]).toEqual([422, 422]);
      expect(res.body).toMatchObject({ status: 'error', code: 'unprocessable' });
      expect(res.body.message).toMatch(/Idempotency-Key was already used with a different request body/);
      expect(original.body).toEqual(first.body);
      expect(await requested()).toHaveLength(1);
    });

    it('is scoped per route: the same key on POST /orders and POST /order are two requests', async () => {
      const orders = await post({ amount: 50 }, KEY, '/orders');
      const order = await post({ Amount: 50 }, KEY, '/order');
      const ordersAgain = await post({ amount: 50 }, KEY, '/orders');
      const orderAgain = await post({ Amount: 50 }, KEY, '/order');

      expect([orders.status, order.status]).toEqual([201, 201]);
      expect(order.headers['idempotent-replayed']).toBeUndefined();
      expect(order.body.orderId).not.toBe(orders.body.orderId);
      expect(ordersAgain.body).toEqual(orders.body);
      expect(orderAgain.body).toEqual(order.body);
      expect([ordersAgain.headers['idempotent-replayed'], orderAgain.headers['idempotent-replayed']]).toEqual(
        ['true', 'true'],
      );
      expect(await requested()).toHaveLength(2);
    });

    it('expires after 24 hours by default: until then it replays, from then on it runs anew', async () => {
      const first = await post({ amount: 50 }, KEY);
      t.env.advance(DAY - 1);
      const stillReplayed = await post({ amount: 50 }, KEY);
      t.env.advance(1);
      const anew = await post({ amount: 50 }, KEY);
      const anewAgain = await post({ amount: 50 }, KEY);

      expect(stillReplayed.headers['idempotent-replayed']).toBe('true');
      expect(stillReplayed.body).toEqual(first.body);
      expect(anew.status).toBe(201);
      expect(anew.headers['idempotent-replayed']).toBeUndefined();
      expect(anew.body.orderId).not.toBe(first.body.orderId);
      expect(anewAgain.body).toEqual(anew.body);
      expect(anewAgain.headers['idempotent-replayed']).toBe('true');
      expect(await requested()).toHaveLength(2);
    });

    it('an expired key is unused: it may come back with another body', async () => {
      await post({ amount: 50 }, KEY);
      t.env.advance(DAY);
      const res = await post({ amount: 60 }, KEY);
      expect(res.status).toBe(201);
      expect(res.body.order.totalAmount).toBe('60.00');
    });

    it('expires after the configured window (the createOrder port)', async () => {
      const env = createTestEnv({
        stores: [t.db.orders, t.db.payments],
        ports: { createOrder: { idempotencyKeyTtlMs: 60_000 } },
      });
      const send = () => invokeHttp(createOrder, { body: { amount: 50 }, headers: KEY }, env);
      const first = await send();
      env.advance(59_999);
      const replayed = await send();
      env.advance(1);
      const anew = await send();

      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(anew.headers['idempotent-replayed']).toBeUndefined();
      expect(anew.body.orderId).not.toBe(first.body.orderId);
    });

    it('a request that fails leaves no key behind: the retry after a 500 runs again', async () => {
      // A fault in the database itself: the outbox insert, the transaction's last statement, fails once
      // (a sequence counts the attempts: nextval survives the rollback).
      const db = t.db.db;
      await db.execute(sql`create sequence orders.fail_once_seq`);
      await db.execute(sql`create function orders.fail_once() returns trigger language plpgsql as $$
        begin if nextval('orders.fail_once_seq') = 1 then raise exception 'injected outbox failure'; end if;
        return new; end $$`);
      await db.execute(
        sql`create trigger fail_once before insert on orders.outbox for each row execute function orders.fail_once()`,
      );
      try {
        const failed = await post({ amount: 50 }, KEY);
        const retried = await post({ amount: 50 }, KEY);
        const again = await post({ amount: 50 }, KEY);

        expect(failed.status).toBe(500);
        expect(retried.status).toBe(201);
        expect(retried.headers['idempotent-replayed']).toBeUndefined();
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.body).toEqual(retried.body);
        expect(await requested()).toHaveLength(1);
      } finally {
        await db.execute(sql`drop trigger fail_once on orders.outbox`);
        await db.execute(sql`drop function orders.fail_once()`);
        await db.execute(sql`drop sequence orders.fail_once_seq`);
      }
    });
  });

  describe('sent concurrently', () => {
    it('10 identical POSTs with one order id create exactly one order and one outbox row', async () => {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => post({ amount: 50, orderId: 'order-1' })),
      );

      expect(responses.map((r) => r.status).sort()).toEqual([
        200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
      ]);
      expect(new Set(responses.map((r) => r.body.orderId))).toEqual(new Set(['order-1']));
      expect(await requested()).toHaveLength(1);
    });

    it('10 identical POSTs with one Idempotency-Key create exactly one order and one outbox row', async () => {
      // PGlite runs one transaction at a time, so here the nine others replay; on a server some get 409
      // (index.postgres.int.test.ts).
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => post({ amount: 50 }, { 'idempotency-key': 'key-1' })),
      );

      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(9);
      const ids = new Set(responses.map((r) => r.body.orderId));
      expect(ids.size).toBe(1);
      const events = await requested();
      expect(events).toHaveLength(1);
      expect(events[0]?.data).toMatchObject({ orderId: [...ids][0] });
    });
  });
});
