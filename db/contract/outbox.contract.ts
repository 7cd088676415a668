/**
 * Contract: the outbox as the relay sees it (claim / markPublished / release / pendingCount), for every
 * service store, since they share one implementation parameterised by tables.
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { NewOutboxRecord, TransactionalStore } from '../../runtime/store.ts';
import { type GetEngine, outboxRecord, sleep } from './fixtures.ts';

const LONG = 60_000;

export function describeOutboxContract(engine: GetEngine): void {
  describe.each(['orders', 'payments'] as const)('outbox of %s', (service) => {
    const store = (): TransactionalStore<unknown> => engine()[service];
    const append = async (n: number, keyOf = (i: number) => `k-${i % 2}`): Promise<NewOutboxRecord[]> => {
      const records = Array.from({ length: n }, (_, i) => outboxRecord({ key: keyOf(i) }));
      // One transaction per record, as handlers write them: ids still follow commit order.
      for (const r of records) await store().transaction((tx) => tx.appendOutbox([r]));
      return records;
    };

    it('claims rows oldest first, with every field as written and attempts counted', async () => {
      const records = await append(3);
      const claimed = await store().outbox.claim(10, LONG);
      expect(claimed.map((r) => r.eventId)).toEqual(records.map((r) => r.eventId));
      const ids = claimed.map((r) => r.id);
      expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
      expect(claimed[0]).toMatchObject({ ...records[0], attempts: 1 });
      expect(typeof claimed[0]!.id).toBe('bigint');
      expect(claimed[0]!.createdAt).toBeInstanceOf(Date);
    });

    it('respects the limit and skips rows whose lease has not expired', async () => {
      const records = await append(5, (i) => `distinct-${i}`);
      const first = await store().outbox.claim(2, LONG);
      const second = await store().outbox.claim(10, LONG);
      expect(first.map((r) => r.eventId)).toEqual(records.slice(0, 2).map((r) => r.eventId));
      expect(second.map((r) => r.eventId)).toEqual(records.slice(2).map((r) => r.eventId));
      expect(await store().outbox.claim(10, LONG)).toEqual([]);
    });

    it('keeps each key in order across relays: no row while an earlier row of its key is leased', async () => {
      const records = await append(4, (i) => (i < 3 ? 'order-a' : 'order-b'));
      const first = await store().outbox.claim(1, LONG); // relay A takes order-a's first event
      const second = await store().outbox.claim(10, LONG); // relay B must not take order-a's later ones
      expect(first.map((r) => r.eventId)).toEqual([records[0]!.eventId]);
      expect(second.map((r) => r.eventId)).toEqual([records[3]!.eventId]);
      await store().outbox.markPublished(first.map((r) => r.id));
      const third = await store().outbox.claim(10, LONG);
      expect(third.map((r) => r.eventId)).toEqual([records[1]!.eventId, records[2]!.eventId]);
    });

    it('claims rows again once their lease expires, counting the attempt', async () => {
      const [record] = await append(1);
      const [first] = await store().outbox.claim(10, 1);
      await sleep(25);
      const [again] = await store().outbox.claim(10, LONG);
      expect(again).toMatchObject({ id: first!.id, eventId: record!.eventId, attempts: 2 });
    });

    it('never hands out published rows, even after their lease would have expired', async () => {
      await append(3);
      const claimed = await store().outbox.claim(2, 1);
      await store().outbox.markPublished(claimed.map((r) => r.id));
      await sleep(25);
      expect(await store().outbox.pendingCount()).toBe(1);
      const rest = await store().outbox.claim(10, LONG);
      expect(rest).toHaveLength(1);
      expect(claimed.map((r) => r.id)).not.toContain(rest[0]!.id);
    });

    it('makes released rows claimable at once', async () => {
      await append(2);
      const claimed = await store().outbox.claim(10, LONG);
      await store().outbox.release([claimed[1]!.id]);
      const again = await store().outbox.claim(10, LONG);
      expect(again.map((r) => r.id)).toEqual([claimed[1]!.id]);
      expect(again[0]!.attempts).toBe(2);
    });

    it('counts unpublished rows, leased or not, and treats empty id lists as no-ops', async () => {
      expect(await store().outbox.pendingCount()).toBe(0);
      await append(4);
      await store().outbox.claim(1, LONG);
      expect(await store().outbox.pendingCount()).toBe(4);
      await store().outbox.markPublished([]);
      await store().outbox.release([]);
      expect(await store().outbox.pendingCount()).toBe(4);
    });

    it('rejects a second row with the same event id', async () => {
      const [record] = await append(1);
      await expect(store().transaction((tx) => tx.appendOutbox([record!]))).rejects.toThrow();
      expect(await store().outbox.pendingCount()).toBe(1);
    });
  });
}
