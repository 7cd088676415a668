/**
 * Contract: the direct hand-over of committed outbox rows to an attached relay (`OutboxPort.attach`), for
 * every service store: rows written leased to the relay and handed to it after the commit, the table as the
 * crash-recovery path, and per-key order against rows the table still holds.
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxHandOver, OutboxRecord, TransactionalStore } from '../../runtime/store.ts';
import { type GetEngine, outboxRecord, sleep } from './fixtures.ts';

const LONG = 60_000;

/** A relay stand-in that records what the store hands it. */
function recordingRelay(owner: string, leaseMs = LONG) {
  const handed: { rows: OutboxRecord[]; unleased: number }[] = [];
  const relay: OutboxHandOver = {
    owner,
    leaseMs,
    committed: (rows, unleased) => handed.push({ rows: [...rows], unleased }),
  };
  return { relay, handed };
}

export function describeHandOverContract(engine: GetEngine): void {
  describe.each(['orders', 'payments'] as const)('outbox hand-over of %s', (service) => {
    const store = (): TransactionalStore<unknown> => engine()[service];
    const detachers: (() => void)[] = [];
    const attach = (relay: OutboxHandOver) => {
      const attachFn = store().outbox.attach;
      if (attachFn === undefined) throw new Error(`the ${service} store has no hand-over`);
      const detach = attachFn(relay);
      if (detach !== undefined) detachers.push(detach);
      return detach;
    };
    afterEach(() => {
      for (const detach of detachers.splice(0)) detach();
    });

    it('hands the committed rows to the attached relay, leased to it: no claim hands them out again', async () => {
      const { relay, handed } = recordingRelay('relay-a');
      attach(relay);
      const records = [
        outboxRecord({ key: 'k-1' }),
        outboxRecord({ key: 'k-2' }),
        outboxRecord({ key: 'k-1' }),
      ];
      await store().transaction((tx) => tx.appendOutbox(records));
      expect(handed).toHaveLength(1);
      expect(handed[0]!.unleased).toBe(0);
      const rows = handed[0]!.rows;
      expect(rows.map((r) => r.eventId)).toEqual(records.map((r) => r.eventId));
      expect(rows[0]).toMatchObject({ ...records[0], attempts: 1, failures: 0 });
      expect(typeof rows[0]!.id).toBe('bigint');
      expect(rows[0]!.createdAt).toBeInstanceOf(Date);
      expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => (a < b ? -1 : 1)));
      expect(await store().outbox.claim(10, LONG, 'relay-b')).toEqual([]);
      expect(await store().outbox.pendingCount()).toBe(3);
      // Only the holder ends them.
      expect(
        await store().outbox.markPublished(
          rows.map((r) => r.id),
          'relay-b',
        ),
      ).toBe(0);
      expect(
        await store().outbox.markPublished(
          rows.map((r) => r.id),
          'relay-a',
        ),
      ).toBe(3);
      expect(await store().outbox.pendingCount()).toBe(0);
    });

    it('hands nothing over when the transaction rolls back', async () => {
      const { relay, handed } = recordingRelay('relay-a');
      attach(relay);
      await expect(
        store().transaction(async (tx) => {
          await tx.appendOutbox([outboxRecord()]);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(handed).toEqual([]);
      expect(await store().outbox.pendingCount()).toBe(0);
    });

    it('writes a row behind an earlier unpublished row of its key unleased: it is claimed only after that row', async () => {
      await store().transaction((tx) => tx.appendOutbox([outboxRecord({ key: 'order-a' })]));
      const [first] = await store().outbox.claim(10, LONG, 'relay-b'); // e.g. being retried by another relay
      const { relay, handed } = recordingRelay('relay-a');
      attach(relay);
      const later = outboxRecord({ key: 'order-a' });
      const other = outboxRecord({ key: 'order-b' });
      await store().transaction((tx) => tx.appendOutbox([later, other]));
      expect(handed).toHaveLength(1);
      expect(handed[0]!.rows.map((r) => r.eventId)).toEqual([other.eventId]);
      expect(handed[0]!.unleased).toBe(1);
      expect(await store().outbox.claim(10, LONG, 'relay-a')).toEqual([]);
      await store().outbox.markPublished([first!.id], 'relay-b');
      expect((await store().outbox.claim(10, LONG, 'relay-a')).map((r) => r.eventId)).toEqual([
        later.eventId,
      ]);
    });

    it('a handed row its relay never publishes is claimed by anyone once its lease expires (crash recovery)', async () => {
      const { relay, handed } = recordingRelay('relay-a', 1);
      attach(relay);
      await store().transaction((tx) => tx.appendOutbox([outboxRecord()]));
      await sleep(25);
      const [again] = await store().outbox.claim(10, LONG, 'relay-b');
      expect(again).toMatchObject({ id: handed[0]!.rows[0]!.id, attempts: 2 });
    });

    it('one relay at a time; after detaching, rows are written unleased and nothing is handed over', async () => {
      const a = recordingRelay('relay-a');
      const detach = attach(a.relay);
      expect(detach).toBeTypeOf('function');
      expect(store().outbox.attach?.(recordingRelay('relay-b').relay)).toBeUndefined();
      detach!();
      await store().transaction((tx) => tx.appendOutbox([outboxRecord()]));
      expect(a.handed).toEqual([]);
      expect(await store().outbox.claim(10, LONG, 'relay-b')).toHaveLength(1);
    });
  });
}
