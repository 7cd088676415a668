/**
 * Contract: transactions (commit, rollback) and the inbox.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BEYOND_DOUBLE,
  concurrently,
  type GetEngine,
  MAX_BIGINT,
  newOrder,
  outboxRecord,
} from './fixtures.ts';

export function describeTransactionsContract(engine: GetEngine): void {
  describe('transactions', () => {
    it('commits the state change and its outbox row together and returns the callback result', async () => {
      const order = newOrder({ amountMinor: MAX_BIGINT });
      const result = await engine().orders.transaction(async (tx) => {
        await tx.repo.insertOrder(order);
        await tx.appendOutbox([outboxRecord({ key: order.id })]);
        return 'done';
      });
      expect(result).toBe('done');
      expect((await engine().orders.repo.findOrder(order.id))?.amountMinor).toBe(MAX_BIGINT);
      expect(await engine().orders.outbox.pendingCount()).toBe(1);
    });

    it('rolls back everything when the callback throws: no order, no outbox row, no inbox record', async () => {
      const order = newOrder({ amountMinor: BEYOND_DOUBLE });
      const eventId = randomUUID();
      const boom = new Error('handler failed');
      await expect(
        engine().orders.transaction(async (tx) => {
          await tx.recordInbox('orders', eventId);
          await tx.repo.insertOrder(order);
          await tx.appendOutbox([outboxRecord({ key: order.id })]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await engine().orders.repo.findOrder(order.id)).toBeUndefined();
      expect(await engine().orders.outbox.pendingCount()).toBe(0);
      expect(await engine().orders.transaction((tx) => tx.recordInbox('orders', eventId))).toBe(true);
    });

    it('answers ping', async () => {
      await expect(engine().orders.ping()).resolves.toBeUndefined();
      await expect(engine().payments.ping()).resolves.toBeUndefined();
    });
  });

  describe('inbox', () => {
    it('records an event once per consumer and reports the duplicate', async () => {
      const eventId = randomUUID();
      const record = (consumer: string) =>
        engine().payments.transaction((tx) => tx.recordInbox(consumer, eventId));
      expect(await record('payments')).toBe(true);
      expect(await record('payments')).toBe(false);
      expect(await record('audit')).toBe(true);
    });

    it('lets exactly one of several concurrent deliveries of the same event through', async () => {
      const eventId = randomUUID();
      const results = await concurrently(6, () =>
        engine().orders.transaction((tx) => tx.recordInbox('shipping', eventId)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('records several events at once and returns only the new ones (stores that offer recordInboxMany)', async (ctx) => {
      const [seen, fresh] = [randomUUID(), randomUUID()];
      await engine().payments.transaction((tx) => tx.recordInbox('payments', seen));
      const recorded = await engine().payments.transaction(async (tx) => {
        if (tx.recordInboxMany === undefined) return undefined;
        return tx.recordInboxMany('payments', [seen, fresh, fresh]);
      });
      if (recorded === undefined) return ctx.skip();
      expect([...recorded]).toEqual([fresh]);
      expect(await engine().payments.transaction((tx) => tx.recordInbox('payments', fresh))).toBe(false);
    });

    it('keeps each service inbox separate', async () => {
      const eventId = randomUUID();
      expect(await engine().orders.transaction((tx) => tx.recordInbox('g', eventId))).toBe(true);
      expect(await engine().payments.transaction((tx) => tx.recordInbox('g', eventId))).toBe(true);
    });
  });
}
