/**
 * PostgreSQL specifics of pruning that the contract suite cannot see through the ports: consumer attempt
 * records (no port writes them yet) are pruned by their last attempt, and every prune delete finds its rows
 * through an index rather than a scan of the table.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ordersAttempts, ordersInbox, ordersOutbox } from '../orders/schema.pg.ts';
import { pruneAttemptsQuery, pruneInboxQuery, pruneOutboxQuery } from './messaging-store.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

const DAY = 86_400_000;
const WINDOWS = { outboxMs: DAY, inboxMs: 7 * DAY, attemptsMs: 7 * DAY } as const;

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
}, 60_000);
beforeEach(() => t.reset());
afterAll(() => t?.close());

/** `n` attempt records last attempted `ageMs` ago. */
async function attempts(n: number, ageMs: number): Promise<void> {
  await t.db.execute(sql`
    insert into ${ordersAttempts} (consumer, event_id, attempts, last_attempt_at)
    select 'group', gen_random_uuid(), 1, now() - ${ageMs}::bigint * interval '1 millisecond'
    from generate_series(1, ${n})`);
}

/** The plan of a query, as text. */
async function plan(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql: text, params } = query.toSQL();
  const result = (await t.db.execute(
    sql.raw(`explain ${text.replace(/\$(\d+)/g, (_, i) => literal(params[Number(i) - 1]))}`),
  )) as unknown as { rows: { 'QUERY PLAN': string }[] };
  return result.rows.map((row) => row['QUERY PLAN']).join('\n');
}

const literal = (value: unknown): string =>
  typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`;

describe('pruning on PostgreSQL', () => {
  it('deletes consumer attempt records last attempted before the window, at most `limit` per round', async () => {
    await attempts(3, 10 * DAY);
    await attempts(2, DAY);
    const prune = (limit: number) => t.orders.maintenance.prune({ now: new Date(), limit, windows: WINDOWS });
    expect((await prune(2)).consumer_attempts).toBe(2);
    expect((await prune(2)).consumer_attempts).toBe(1);
    expect((await prune(2)).consumer_attempts).toBe(0);
    const left = (await t.db.execute(sql`select count(*)::int as n from ${ordersAttempts}`)) as unknown as {
      rows: { n: number }[];
    };
    expect(left.rows[0]?.n).toBe(2);
  });

  it('each prune delete finds its rows through an index, not by scanning the table', async () => {
    // A steady state: many rows inside their window, a few past it, plus unpublished outbox rows.
    await t.db.execute(sql`
      insert into ${ordersOutbox} (event_id, topic, key, value, published_at)
      select gen_random_uuid(), 't', 'k-' || i, '{}',
             case when i % 10 = 0 then null else now() - (i % 1000) * interval '1 minute' end
      from generate_series(1, 20000) as i`);
    await t.db.execute(sql`
      insert into ${ordersInbox} (consumer, event_id, handled_at)
      select 'group', gen_random_uuid(), now() - (i % 5000) * interval '1 minute' from generate_series(1, 20000) as i`);
    await attempts(20_000, DAY);
    await t.db.execute(sql`analyze`);
    const ago = (ms: number) => new Date(Date.now() - ms);

    const outbox = await plan(pruneOutboxQuery(t.db, ordersOutbox, ago(WINDOWS.outboxMs), 1000));
    expect(outbox).toMatch(/Index (Only )?Scan (using|on) outbox_published_at_idx/);
    const inbox = await plan(pruneInboxQuery(t.db, ordersInbox, ago(WINDOWS.inboxMs), 1000));
    expect(inbox).toMatch(/Index (Only )?Scan (using|on) inbox_handled_at_idx/);
    const attempted = await plan(pruneAttemptsQuery(t.db, ordersAttempts, ago(WINDOWS.attemptsMs), 1000));
    expect(attempted).toMatch(/Index (Only )?Scan (using|on) consumer_attempts_last_attempt_at_idx/);
    for (const text of [outbox, inbox, attempted]) expect(text).not.toMatch(/Seq Scan/);
  });
});
