/**
 * The autovacuum substitute analyzes and vacuums PGlite tables by PostgreSQL's default thresholds.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgliteAutovacuum } from './pglite-autovacuum.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

let t: TestDatabase;
/** Statistics reach pg_stat_* at most once a second; this makes the next statement publish them. */
const flushStats = async () => {
  await t.db.execute(sql`select pg_stat_force_next_flush()`);
  await t.db.execute(sql`select 1`);
};
beforeAll(async () => {
  t = await createTestDatabase();
}, 60_000);
afterAll(() => t?.close());

const stats = async (table: string) => {
  const result = (await t.db.execute(
    sql`select n_dead_tup::int as dead, last_analyze is not null as analyzed, last_vacuum is not null as vacuumed
        from pg_stat_user_tables where schemaname = 'orders' and relname = ${table}`,
  )) as unknown as { rows: { dead: number; analyzed: boolean; vacuumed: boolean }[] };
  return result.rows[0]!;
};

/** An autovacuum checked only by `runOnce`, recording each command it runs. */
const recording = () => {
  const runs: string[] = [];
  const autovacuum = startPgliteAutovacuum(t.db, {
    intervalMs: 60_000,
    onRun: (event) => {
      if ('table' in event) runs.push(`${event.command} ${event.table}`);
      else throw event.error;
    },
  });
  return { runs, autovacuum };
};
/** `n` outbox rows, each with its own key. */
const outboxRows = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({
    eventId: randomUUID(),
    topic: 't',
    key: `${prefix}-${i}`,
    value: '{}',
    headers: {},
  }));

describe('startPgliteAutovacuum', () => {
  it('analyzes a table past the change threshold, vacuums it past the dead-row threshold, leaves others', async () => {
    const { runs, autovacuum } = recording();
    try {
      await t.orders.transaction((tx) => tx.appendOutbox(outboxRows(200, 'k')));
      await flushStats();
      await autovacuum.runOnce();
      expect(runs).toEqual(['ANALYZE orders.outbox']); // 200 inserts: over 50 + 10% changed rows
      expect(await stats('outbox')).toMatchObject({ analyzed: true });
      expect((await stats('orders')).analyzed).toBe(false);

      runs.length = 0;
      await flushStats();
      await autovacuum.runOnce();
      expect(runs).toEqual([]); // nothing changed since

      const claimed = await t.orders.outbox.claim(200, 30_000);
      await t.orders.outbox.markPublished(claimed.map((row) => row.id));
      await flushStats();
      expect((await stats('outbox')).dead).toBeGreaterThan(50);
      await autovacuum.runOnce();
      expect(runs).toEqual(['VACUUM (ANALYZE) orders.outbox']);
      await flushStats();
      expect(await stats('outbox')).toMatchObject({ dead: 0, vacuumed: true });
    } finally {
      await autovacuum.stop();
    }
  });

  it('maintains one table per round, the one furthest past its threshold first', async () => {
    const { runs, autovacuum } = recording();
    try {
      // 300 more outbox rows (over 4× its analyze threshold after the test above) and 80 orders (1.6×).
      await t.orders.transaction(async (tx) => {
        await tx.appendOutbox(outboxRows(300, 'r'));
        for (let i = 0; i < 80; i++)
          await tx.repo.insertOrder({
            id: `av-${i}`,
            amountMinor: 100n,
            currency: 'USD',
            createdAt: new Date(),
          });
      });
      await flushStats();
      await autovacuum.runOnce();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatch(/ orders\.outbox$/);
      expect((await stats('orders')).analyzed).toBe(false);
      await flushStats();
      await autovacuum.runOnce();
      expect(runs[1]).toBe('ANALYZE orders.orders');
      // The session's statistics target is back to PostgreSQL's default afterwards.
      const target = (await t.db.execute(sql`show default_statistics_target`)) as unknown as {
        rows: { default_statistics_target: string }[];
      };
      expect(target.rows[0]!.default_statistics_target).toBe('100');
    } finally {
      await autovacuum.stop();
    }
  });
});
