/**
 * Outbox and inbox queries, written once and parameterised by a service's tables (see messaging-schema.ts).
 * Each query function takes the database (or transaction) first.
 * @module
 */
import { and, asc, count, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { NewOutboxRecord, OutboxPort, OutboxRecord } from '../../runtime/store.ts';
import type { PgDatabase } from './connect.ts';
import type { InboxTable, OutboxTable } from './messaging-schema.ts';

/** Writes outbox rows; in a transaction they commit or roll back with the state change. */
export async function appendOutbox(
  db: PgDatabase,
  outbox: OutboxTable,
  records: readonly NewOutboxRecord[],
): Promise<void> {
  if (records.length === 0) return;
  await db.insert(outbox).values(
    records.map((r) => ({
      eventId: r.eventId,
      topic: r.topic,
      key: r.key,
      value: r.value,
      headers: r.headers,
    })),
  );
}

/**
 * Records `(consumer, eventId)`; false when it was already there. `ON CONFLICT DO NOTHING`: a concurrent
 * duplicate waits for the first transaction, then inserts nothing, so exactly one caller gets true.
 */
export async function recordInbox(
  db: PgDatabase,
  inbox: InboxTable,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const inserted = await db
    .insert(inbox)
    .values({ consumer, eventId })
    .onConflictDoNothing({ target: [inbox.consumer, inbox.eventId] })
    .returning({ consumer: inbox.consumer });
  return inserted.length > 0;
}

/**
 * The relay's port over one outbox table. `claim` is a single statement: it picks the oldest claimable rows
 * with `FOR UPDATE SKIP LOCKED` (rows another relay is claiming right now are skipped, not waited for) and
 * leases them in the same `UPDATE`, so two relays never get the same row while a lease lasts.
 * Lease times use the database clock, so relays on different hosts agree.
 */
export function createOutboxPort(db: PgDatabase, outbox: OutboxTable): OutboxPort {
  return {
    async claim(limit, leaseMs) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`claim: limit must be a positive integer, got ${limit}`);
      const lease = Math.max(0, Math.ceil(leaseMs));
      const claimable = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(
          and(isNull(outbox.publishedAt), or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, sql`now()`))),
        )
        .orderBy(asc(outbox.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      const rows = await db
        .update(outbox)
        .set({
          leaseUntil: sql`now() + ${lease}::integer * interval '1 millisecond'`,
          attempts: sql`${outbox.attempts} + 1`,
        })
        .where(inArray(outbox.id, claimable))
        .returning();
      return rows.map(toOutboxRecord).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async markPublished(ids) {
      if (ids.length === 0) return;
      await db
        .update(outbox)
        .set({ publishedAt: sql`now()`, leaseUntil: null })
        .where(and(inArray(outbox.id, [...ids]), isNull(outbox.publishedAt)));
    },
    async release(ids) {
      if (ids.length === 0) return;
      await db
        .update(outbox)
        .set({ leaseUntil: null })
        .where(and(inArray(outbox.id, [...ids]), isNull(outbox.publishedAt)));
    },
    async pendingCount() {
      const [row] = await db.select({ n: count() }).from(outbox).where(isNull(outbox.publishedAt));
      return row?.n ?? 0;
    },
  };
}

function toOutboxRecord(row: OutboxTable['$inferSelect']): OutboxRecord {
  return {
    id: row.id,
    eventId: row.eventId,
    topic: row.topic,
    key: row.key,
    value: row.value,
    headers: row.headers,
    createdAt: row.createdAt,
    attempts: row.attempts,
  };
}
