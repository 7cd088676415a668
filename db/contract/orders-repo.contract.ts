/**
 * Contract: the orders repository. Every engine must pass these.
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { IdempotencyRecord } from '../orders/repo.ts';
import {
  AT,
  BEYOND_DOUBLE,
  concurrently,
  type GetEngine,
  newOrder,
  notification,
  shipment,
  sleep,
} from './fixtures.ts';

const later = new Date(AT.getTime() + 60_000);
const HOUR = 60 * 60 * 1000;
const at = (ms: number) => new Date(AT.getTime() + ms);

let keySequence = 0;
const idempotencyRecord = (overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  clientId: '',
  route: 'POST /orders',
  key: `idem-${process.pid}-${++keySequence}`,
  requestHash: 'h1',
  orderId: 'ord-a',
  responseStatus: 201,
  responseBody: '{"status":"success","orderId":"ord-a"}',
  createdAt: AT,
  expiresAt: at(HOUR),
  ...overrides,
});

export function describeOrdersRepoContract(engine: GetEngine): void {
  describe('OrdersRepo', () => {
    it('inserts a PENDING, NOT_PAID order and reads it back unchanged', async () => {
      const order = newOrder({ amountMinor: BEYOND_DOUBLE, currency: 'JPY' });
      const { created, order: stored } = await engine().orders.repo.insertOrder(order);
      const expected = {
        ...order,
        status: 'PENDING',
        paymentStatus: 'NOT_PAID',
        failureReason: null,
        updatedAt: AT,
      };
      expect(created).toBe(true);
      expect(stored).toEqual(expected);
      expect(await engine().orders.repo.findOrder(order.id)).toEqual(expected);
    });

    it('returns the existing order, unchanged, for a second insert with the same id', async () => {
      const order = newOrder();
      await engine().orders.repo.insertOrder(order);
      const again = await engine().orders.repo.insertOrder({ ...order, amountMinor: 1n, currency: 'EUR' });
      expect(again.created).toBe(false);
      expect(again.order.amountMinor).toBe(order.amountMinor);
      expect(again.order.currency).toBe('USD');
    });

    it('creates exactly one order when the same id is inserted by concurrent transactions', async () => {
      const order = newOrder();
      const results = await concurrently(8, () =>
        engine().orders.transaction((tx) => tx.repo.insertOrder(order)),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      for (const r of results) expect(r.order).toEqual(results[0]!.order);
    });

    it('rejects a non-positive amount (CHECK constraint)', async () => {
      await expect(engine().orders.repo.insertOrder(newOrder({ amountMinor: 0n }))).rejects.toThrow();
    });

    it('finds nothing for an unknown id, locked or not', async () => {
      expect(await engine().orders.repo.findOrder('missing')).toBeUndefined();
      expect(await engine().orders.transaction((tx) => tx.repo.lockOrder('missing'))).toBeUndefined();
    });

    it('locks and returns an existing order inside a transaction', async () => {
      const order = newOrder();
      await engine().orders.repo.insertOrder(order);
      const locked = await engine().orders.transaction((tx) => tx.repo.lockOrder(order.id));
      expect(locked?.id).toBe(order.id);
    });

    it('updates by compare-and-set, and refuses a stale expected state', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const repo = engine().orders.repo;
      const paid = {
        status: 'CONFIRMED',
        paymentStatus: 'PAID',
        failureReason: null,
        updatedAt: later,
      } as const;
      expect(await repo.updateOrder(order.id, { status: 'PENDING', paymentStatus: 'NOT_PAID' }, paid)).toBe(
        true,
      );
      const failed = {
        status: 'CANCELLED',
        paymentStatus: 'FAILED',
        failureReason: 'late',
        updatedAt: later,
      } as const;
      expect(await repo.updateOrder(order.id, { status: 'PENDING', paymentStatus: 'NOT_PAID' }, failed)).toBe(
        false,
      );
      expect(await repo.findOrder(order.id)).toMatchObject({
        status: 'CONFIRMED',
        paymentStatus: 'PAID',
        updatedAt: later,
      });
      expect(await repo.updateOrder('missing', { status: 'PENDING', paymentStatus: 'NOT_PAID' }, paid)).toBe(
        false,
      );
    });

    it('lets exactly one of several concurrent updates from the same expected state win', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const expected = { status: 'PENDING', paymentStatus: 'NOT_PAID' } as const;
      const results = await concurrently(6, (i) =>
        engine().orders.transaction((tx) =>
          tx.repo.updateOrder(order.id, expected, {
            ...(i % 2
              ? { status: 'CONFIRMED', paymentStatus: 'PAID' }
              : { status: 'CANCELLED', paymentStatus: 'FAILED' }),
            failureReason: `writer-${i}`,
            updatedAt: later,
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await engine().orders.repo.findOrder(order.id);
      expect(stored?.failureReason).toBe(`writer-${results.indexOf(true)}`);
    });

    describeIdempotencyKeys(engine);

    it('stores one shipment per order, even under concurrent inserts', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const results = await concurrently(5, () =>
        engine().orders.transaction((tx) => tx.repo.insertShipment(shipment(order.id))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await engine().orders.repo.findShipment(order.id)).toMatchObject({
        orderId: order.id,
        shippedAt: AT,
      });
      expect(await engine().orders.repo.findShipment('missing')).toBeUndefined();
    });

    it('stores one notification per (order, kind) and lists them', async () => {
      const { order } = await engine().orders.repo.insertOrder(newOrder());
      const first = notification(order.id);
      const results = await concurrently(4, (i) =>
        engine().orders.transaction((tx) =>
          tx.repo.insertNotification(i === 0 ? first : notification(order.id)),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const listed = await engine().orders.repo.listNotifications(order.id);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({
        orderId: order.id,
        kind: 'payment-failed',
        channel: 'email',
        createdAt: AT,
      });
      expect(await engine().orders.repo.listNotifications('missing')).toEqual([]);
    });

    it('appends timeline rows and lists one order’s by time, then in append order, up to a limit', async () => {
      const repo = engine().orders.repo;
      const entry = (n: number) => JSON.stringify({ kind: 'event', n, text: 'naïve “quotes” ✓' });
      await repo.appendTimeline([
        { orderId: 'tl-1', at: at(2_000), entry: entry(3) },
        { orderId: 'tl-1', at: at(1_000), entry: entry(1) },
        { orderId: 'tl-2', at: at(0), entry: entry(9) },
      ]);
      await engine().orders.transaction((tx) =>
        tx.repo.appendTimeline([{ orderId: 'tl-1', at: at(1_000), entry: entry(2) }]),
      );
      const rows = await repo.listTimeline('tl-1');
      expect(rows.map((r) => JSON.parse(r.entry).n)).toEqual([1, 2, 3]);
      expect(rows[0]).toEqual({ orderId: 'tl-1', at: at(1_000), entry: entry(1) });
      expect((await repo.listTimeline('tl-1', 2)).map((r) => JSON.parse(r.entry).n)).toEqual([1, 2]);
      expect(await repo.listTimeline('missing')).toEqual([]);
    });

    it('lists the most recent orders first, optionally of one status', async () => {
      const repo = engine().orders.repo;
      await repo.insertOrder(newOrder({ id: 'r-old', createdAt: at(0) }));
      await repo.insertOrder(newOrder({ id: 'r-new', createdAt: at(5_000) }));
      await repo.updateOrder(
        'r-old',
        { status: 'PENDING', paymentStatus: 'NOT_PAID' },
        {
          status: 'CANCELLED',
          paymentStatus: 'FAILED',
          failureReason: 'x',
          updatedAt: at(1),
        },
      );
      const ids = (orders: { id: string }[]) => orders.map((o) => o.id).filter((id) => id.startsWith('r-'));
      expect(ids(await repo.listRecentOrders({ limit: 100 }))).toEqual(['r-new', 'r-old']);
      expect(ids(await repo.listRecentOrders({ limit: 100, status: 'CANCELLED' }))).toEqual(['r-old']);
      expect(await repo.listRecentOrders({ limit: 1 })).toHaveLength(1);
    });
  });
}

function describeIdempotencyKeys(engine: GetEngine): void {
  describe('idempotency keys', () => {
    it('stores a key with its answer and finds it until it expires', async () => {
      const repo = engine().orders.repo;
      const record = idempotencyRecord();
      await engine().orders.transaction((tx) => tx.repo.saveIdempotencyKey(record));

      expect(await repo.findIdempotencyKey(record, record.key, AT)).toEqual(record);
      expect(await repo.findIdempotencyKey(record, record.key, at(HOUR - 1))).toEqual(record);
      expect(await repo.findIdempotencyKey(record, record.key, at(HOUR))).toBeUndefined();
      expect(await repo.findIdempotencyKey(record, 'missing', AT)).toBeUndefined();
    });

    it('keeps the answer byte for byte (escapes, non-ASCII, 100 kB), and a migrated key without one', async () => {
      const repo = engine().orders.repo;
      const body = JSON.stringify({ text: 'a\u0000"\\\n é 日本 😀 \ud800', pad: 'x'.repeat(100_000) });
      const kept = idempotencyRecord({ responseBody: body });
      const migrated = idempotencyRecord({ responseStatus: null, responseBody: null });
      await repo.saveIdempotencyKey(kept);
      await repo.saveIdempotencyKey(migrated);

      expect((await repo.findIdempotencyKey(kept, kept.key, AT))?.responseBody).toBe(body);
      expect(await repo.findIdempotencyKey(migrated, migrated.key, AT)).toMatchObject({
        responseStatus: null,
        responseBody: null,
      });
    });

    it("is pruned with the store's maintenance round once expired (task idempotency_keys)", async () => {
      const repo = engine().orders.repo;
      const live = idempotencyRecord({ key: 'live' });
      const expired = idempotencyRecord({ key: 'expired', expiresAt: at(HOUR / 2) });
      await repo.saveIdempotencyKey(live);
      await repo.saveIdempotencyKey(expired);
      const windows = { outboxMs: HOUR * 24, inboxMs: HOUR * 24, attemptsMs: HOUR * 24 };
      const report = await engine().orders.maintenance?.prune({ now: at(HOUR / 2), limit: 100, windows });

      expect(report?.idempotency_keys).toBe(1);
      expect(await repo.findIdempotencyKey(expired, expired.key, AT)).toBeUndefined();
      expect(await repo.findIdempotencyKey(live, live.key, AT)).toEqual(live);
    });

    it('scopes keys by client and route: the same key elsewhere is another key', async () => {
      const repo = engine().orders.repo;
      const record = idempotencyRecord();
      const alias = { ...record, route: 'POST /order', orderId: 'ord-b' };
      const client = { ...record, clientId: 'client-7', orderId: 'ord-c' };
      await repo.saveIdempotencyKey(record);

      expect(await repo.findIdempotencyKey(alias, record.key, AT)).toBeUndefined();
      expect(await repo.findIdempotencyKey(client, record.key, AT)).toBeUndefined();
      await repo.saveIdempotencyKey(alias);
      await repo.saveIdempotencyKey(client);
      expect((await repo.findIdempotencyKey(record, record.key, AT))?.orderId).toBe('ord-a');
      expect((await repo.findIdempotencyKey(alias, record.key, AT))?.orderId).toBe('ord-b');
      expect((await repo.findIdempotencyKey(client, record.key, AT))?.orderId).toBe('ord-c');
    });

    it('replaces an expired record of the same key, and refuses to overwrite a live one', async () => {
      const repo = engine().orders.repo;
      const first = idempotencyRecord();
      await repo.saveIdempotencyKey(first);
      const second = { ...first, orderId: 'ord-second', createdAt: at(HOUR), expiresAt: at(2 * HOUR) };
      await engine().orders.transaction((tx) => tx.repo.saveIdempotencyKey(second));
      expect(await repo.findIdempotencyKey(first, first.key, at(HOUR))).toEqual(second);

      const third = { ...second, orderId: 'ord-third', createdAt: at(HOUR + 1), expiresAt: at(3 * HOUR) };
      await expect(engine().orders.transaction((tx) => tx.repo.saveIdempotencyKey(third))).rejects.toThrow();
      expect(await repo.findIdempotencyKey(first, first.key, at(HOUR + 1))).toEqual(second);
    });

    it('deletes expired keys in bounded rounds, and never a live one', async () => {
      const repo = engine().orders.repo;
      const expired = Array.from({ length: 5 }, (_, i) => idempotencyRecord({ expiresAt: at(i * 1000) }));
      const live = [idempotencyRecord({ expiresAt: at(HOUR) }), idempotencyRecord({ expiresAt: at(4_001) })];
      for (const record of [...expired, ...live]) await repo.saveIdempotencyKey(record);
      const before = at(4_000); // the last expired key expires exactly then

      expect(await repo.deleteExpiredIdempotencyKeys(before, 2)).toBe(2);
      expect(await repo.deleteExpiredIdempotencyKeys(before, 10)).toBe(3);
      expect(await repo.deleteExpiredIdempotencyKeys(before, 10)).toBe(0);
      for (const record of expired)
        expect(await repo.findIdempotencyKey(record, record.key, AT)).toBeUndefined();
      for (const record of live)
        expect(await repo.findIdempotencyKey(record, record.key, before)).toEqual(record);
    });

    it('grants the key lock to a transaction, again to the same one, and for another key', async () => {
      const record = idempotencyRecord();
      const granted = await engine().orders.transaction(async (tx) => [
        await tx.repo.tryLockIdempotencyKey(record, record.key),
        await tx.repo.tryLockIdempotencyKey(record, record.key),
        await tx.repo.tryLockIdempotencyKey({ ...record, route: 'POST /order' }, record.key),
      ]);
      expect(granted).toEqual([true, true, true]);
    });

    it('refuses the key lock, without waiting, while another transaction holds it; grants it after', async (ctx) => {
      if (!engine().concurrentTransactions)
        ctx.skip('needs two transactions open at once (PGlite has one connection)');
      const record = idempotencyRecord();
      const scope = { clientId: record.clientId, route: record.route };
      let release!: () => void;
      let locked!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const holding = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const holder = engine().orders.transaction(async (tx) => {
        const got = await tx.repo.tryLockIdempotencyKey(scope, record.key);
        locked();
        await gate;
        return got;
      });
      await holding;
      const started = performance.now();
      const [same, alias, other] = await engine().orders.transaction(async (tx) => [
        await tx.repo.tryLockIdempotencyKey(scope, record.key),
        await tx.repo.tryLockIdempotencyKey({ ...scope, route: 'POST /order' }, record.key),
        await tx.repo.tryLockIdempotencyKey(scope, `${record.key}-other`),
      ]);
      const waited = performance.now() - started;
      release();
      expect(await holder).toBe(true);
      await sleep(10);
      const after = await engine().orders.transaction((tx) =>
        tx.repo.tryLockIdempotencyKey(scope, record.key),
      );

      expect([same, alias, other]).toEqual([false, true, true]);
      expect(waited).toBeLessThan(1_000);
      expect(after).toBe(true);
    });
  });
}
