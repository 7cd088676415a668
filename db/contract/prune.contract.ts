/**
 * Contract: `TransactionalStore.maintenance.prune` — bounded deletes of what no longer matters (published
 * outbox rows past their window, inbox rows past the dedupe window), never an unpublished or parked row. The
 * time is the caller's `now`, so the tests move it days ahead instead of waiting.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PruneOptions, TransactionalStore } from '../../runtime/store.ts';
import { type GetEngine, outboxRecord } from './fixtures.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WINDOWS = { outboxMs: DAY, inboxMs: 7 * DAY, attemptsMs: 7 * DAY } as const;
const LONG = 60_000;

/** Prune options `ahead` ms from now. */
const at = (ahead: number, limit = 1_000): PruneOptions => ({
  now: new Date(Date.now() + ahead),
  limit,
  windows: WINDOWS,
});

export function describePruneContract(engine: GetEngine): void {
  describe.each(['orders', 'payments'] as const)('pruning of %s', (service) => {
    const store = (): TransactionalStore<unknown> => engine()[service];
    const prune = (options: PruneOptions) => {
      const maintenance = store().maintenance;
      if (maintenance === undefined) throw new Error(`the ${service} store has no maintenance port`);
      return maintenance.prune(options);
    };
    /** Appends `n` rows with distinct keys and publishes `published` of them. */
    const outbox = async (n: number, published: number) => {
      const records = Array.from({ length: n }, () => outboxRecord());
      await store().transaction((tx) => tx.appendOutbox(records));
      const claimed = await store().outbox.claim(published, LONG, 'relay');
      await store().outbox.markPublished(
        claimed.map((r) => r.id),
        'relay',
      );
      return records;
    };

    it('reports every table it prunes, and deletes nothing younger than its window', async () => {
      await outbox(2, 2);
      await store().transaction((tx) => tx.recordInbox('group', randomUUID()));
      const report = await prune(at(HOUR));
      expect(report).toMatchObject({ outbox: 0, inbox: 0, consumer_attempts: 0 });
      expect(await store().outbox.pendingCount()).toBe(0);
    });

    it('leaves the pruner no published outbox rows (they are deleted when published); unpublished and parked rows stay, however old', async () => {
      await outbox(4, 2);
      const [toPark] = await store().outbox.claim(1, LONG, 'relay');
      await store().outbox.recordFailures([{ id: toPark!.id, error: 'bad' }], {
        owner: 'relay',
        retryInMs: 0,
        parkAfter: 1,
      });
      const report = await prune(at(30 * DAY));
      expect(report.outbox).toBe(0);
      expect(await store().outbox.pendingCount()).toBe(2);
      expect(await store().outbox.parkedCount()).toBe(1);
    });

    it('deletes at most `limit` rows per table per call', async () => {
      const consumer = `group-${randomUUID()}`;
      await store().transaction(async (tx) => {
        for (let i = 0; i < 5; i++) await tx.recordInbox(consumer, randomUUID());
      });
      const rounds = [];
      for (let i = 0; i < 4; i++) rounds.push((await prune(at(30 * DAY, 2))).inbox);
      expect(rounds).toEqual([2, 2, 1, 0]);
    });

    it('forgets inbox rows only after the dedupe window: a redelivery within it is still a duplicate', async () => {
      const eventId = randomUUID();
      await store().transaction((tx) => tx.recordInbox('group', eventId));
      expect((await prune(at(6 * DAY))).inbox).toBe(0);
      expect(await store().transaction((tx) => tx.recordInbox('group', eventId))).toBe(false);
      expect((await prune(at(8 * DAY))).inbox).toBe(1);
      expect(await store().transaction((tx) => tx.recordInbox('group', eventId))).toBe(true);
    });
  });
}
