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

    it('tells when the oldest unpublished row was written, null once all are published', async () => {
      const outbox = store().outbox;
      if (outbox.oldestPendingAt === undefined) return;
      expect(await outbox.oldestPendingAt()).toBeNull();
      await append(2);
      const claimed = await outbox.claim(10, LONG);
      expect(await outbox.oldestPendingAt()).toEqual(claimed[0]!.createdAt);
      await outbox.markPublished([claimed[0]!.id]);
      expect(await outbox.oldestPendingAt()).toEqual(claimed[1]!.createdAt);
      await outbox.markPublished([claimed[1]!.id]);
      expect(await outbox.oldestPendingAt()).toBeNull();
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

    describe('leases belong to the relay that claimed them', () => {
      it('release by another relay leaves the lease alone; release by its owner ends it', async () => {
        await append(2, (i) => `distinct-${i}`);
        const claimed = await store().outbox.claim(10, LONG, 'relay-a');
        const ids = claimed.map((r) => r.id);
        await store().outbox.release(ids, 'relay-b');
        await store().outbox.release(ids); // a caller without an owner id owns no relay's lease either
        expect(await store().outbox.claim(10, LONG, 'relay-b')).toEqual([]);
        await store().outbox.release(ids, 'relay-a');
        expect((await store().outbox.claim(10, LONG, 'relay-b')).map((r) => r.id)).toEqual(ids);
      });

      it('markPublished after the lease was taken over does nothing: the new holder publishes (again) and marks', async () => {
        await append(1);
        const [first] = await store().outbox.claim(10, 1, 'relay-a');
        await sleep(25);
        const [again] = await store().outbox.claim(10, LONG, 'relay-b');
        expect(again?.id).toBe(first!.id);
        expect(await store().outbox.markPublished([first!.id], 'relay-a')).toBe(0);
        expect(await store().outbox.pendingCount()).toBe(1);
        expect(await store().outbox.markPublished([first!.id], 'relay-b')).toBe(1);
        expect(await store().outbox.pendingCount()).toBe(0);
      });

      it('markPublished by the owner still counts after its lease expired, as long as nobody took the row over', async () => {
        await append(1);
        const [row] = await store().outbox.claim(10, 1, 'relay-a');
        await sleep(25);
        expect(await store().outbox.markPublished([row!.id], 'relay-a')).toBe(1);
        expect(await store().outbox.markPublished([row!.id], 'relay-a')).toBe(0); // already published
        expect(await store().outbox.pendingCount()).toBe(0);
      });
    });

    describe('failures and parking', () => {
      const retry = { retryInMs: LONG, parkAfter: 3 } as const;

      it('charges a failure to a row its owner leases, keeps it and the later rows of its key back, not other keys', async () => {
        const records = await append(3, (i) => (i < 2 ? 'order-a' : 'order-b'));
        const claimed = await store().outbox.claim(10, LONG, 'relay-a');
        const [a1, a2, b1] = claimed;
        expect(claimed.map((r) => r.failures)).toEqual([0, 0, 0]);
        const parked = await store().outbox.recordFailures(
          [{ id: a1!.id, error: 'MESSAGE_TOO_LARGE: too big' }],
          {
            owner: 'relay-a',
            ...retry,
          },
        );
        expect(parked).toEqual([]);
        await store().outbox.release([a2!.id, b1!.id], 'relay-a');
        // a1 waits out its retry delay; a2 waits behind it (order per key); order-b is free.
        const next = await store().outbox.claim(10, LONG, 'relay-b');
        expect(next.map((r) => r.eventId)).toEqual([records[2]!.eventId]);
        // Another relay cannot charge (or release) a row it does not hold.
        await store().outbox.recordFailures([{ id: a2!.id, error: 'x' }], {
          owner: 'relay-b',
          retryInMs: LONG,
          parkAfter: 1,
        });
        expect(await store().outbox.parkedCount()).toBe(0);
      });

      it('a row becomes claimable again once its retry delay is over, with its failures counted', async () => {
        await append(2, () => 'order-a');
        const [first] = await store().outbox.claim(1, LONG, 'relay-a');
        await store().outbox.recordFailures([{ id: first!.id, error: 'boom' }], {
          owner: 'relay-a',
          retryInMs: 1,
          parkAfter: 3,
        });
        await sleep(25);
        const again = await store().outbox.claim(10, LONG, 'relay-b');
        expect(again.map((r) => [r.id, r.failures])).toEqual([
          [first!.id, 1],
          [first!.id + 1n, 0],
        ]);
      });

      it('parks a row at parkAfter failures: never claimed, its key waits, other keys flow, operators see it', async () => {
        const records = await append(3, (i) => (i < 2 ? 'order-a' : 'order-b'));
        let parked: bigint[] = [];
        for (let n = 1; n <= 3; n++) {
          const [row] = await store().outbox.claim(1, LONG, 'relay-a');
          expect(row?.eventId).toBe(records[0]!.eventId);
          parked = await store().outbox.recordFailures([{ id: row!.id, error: `failure ${n}` }], {
            owner: 'relay-a',
            retryInMs: 0,
            parkAfter: 3,
          });
          await sleep(5);
        }
        expect(parked).toHaveLength(1);
        await sleep(25);
        const rest = await store().outbox.claim(10, LONG, 'relay-a');
        expect(rest.map((r) => r.eventId)).toEqual([records[2]!.eventId]); // order-a's second row waits
        expect(await store().outbox.parkedCount()).toBe(1);
        expect(await store().outbox.pendingCount()).toBe(3); // parked rows are still unpublished
        const [listed] = await store().outbox.listParked();
        expect(listed).toMatchObject({
          id: parked[0],
          eventId: records[0]!.eventId,
          key: 'order-a',
          failures: 3,
          lastError: 'failure 3',
        });
        expect(listed!.parkedAt).toBeInstanceOf(Date);
      });

      it('republish by ids unparks with failures reset; the key flows again in order', async () => {
        const records = await append(2, () => 'order-a');
        const [row] = await store().outbox.claim(1, LONG, 'relay-a');
        await store().outbox.recordFailures([{ id: row!.id, error: 'bad' }], {
          owner: 'relay-a',
          retryInMs: 0,
          parkAfter: 1,
        });
        expect(await store().outbox.claim(10, LONG, 'relay-a')).toEqual([]);
        expect(await store().outbox.republish({ ids: [row!.id, 999_999n] })).toBe(1);
        expect(await store().outbox.republish({ ids: [row!.id] })).toBe(0); // no longer parked
        const again = await store().outbox.claim(10, LONG, 'relay-b');
        expect(again.map((r) => [r.eventId, r.failures])).toEqual([
          [records[0]!.eventId, 0],
          [records[1]!.eventId, 0],
        ]);
        expect(await store().outbox.parkedCount()).toBe(0);
        expect(await store().outbox.republish({ ids: [] })).toBe(0);
      });

      it('republish all unparks every parked row; listParked pages by id', async () => {
        await append(3, (i) => `distinct-${i}`);
        const claimed = await store().outbox.claim(10, LONG, 'relay-a');
        await store().outbox.recordFailures(
          claimed.map((r) => ({ id: r.id, error: 'bad' })),
          { owner: 'relay-a', retryInMs: 0, parkAfter: 1 },
        );
        const firstPage = await store().outbox.listParked({ limit: 2 });
        expect(firstPage.map((r) => r.id)).toEqual(claimed.slice(0, 2).map((r) => r.id));
        const secondPage = await store().outbox.listParked({ limit: 2, afterId: firstPage[1]!.id });
        expect(secondPage.map((r) => r.id)).toEqual([claimed[2]!.id]);
        expect(await store().outbox.republish({ all: true })).toBe(3);
        expect(await store().outbox.listParked()).toEqual([]);
        expect(await store().outbox.claim(10, LONG, 'relay-b')).toHaveLength(3);
      });
    });

    it('rejects a second row with the same event id', async () => {
      const [record] = await append(1);
      await expect(store().transaction((tx) => tx.appendOutbox([record!]))).rejects.toThrow();
      expect(await store().outbox.pendingCount()).toBe(1);
    });
  });
}
