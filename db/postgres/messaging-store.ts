/**
 * Outbox and inbox queries, written once and parameterised by a service's tables (see messaging-schema.ts).
 * Each query function takes the database (or transaction) first.
 * @module
 */
import { and, asc, count, eq, getTableName, gte, inArray, isNull, lt, notExists, or, sql } from 'drizzle-orm';
import { alias, getTableConfig } from 'drizzle-orm/pg-core';
import type { AttemptsPort, NewOutboxRecord, OutboxPort, OutboxRecord } from '../../runtime/store.ts';
import type { PgDatabase } from './connect.ts';
import type { AttemptsTable, InboxTable, OutboxTable } from './messaging-schema.ts';

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
 * Records several `(consumer, eventId)` at once; returns the ids that were new. One statement,
 * `ON CONFLICT DO NOTHING … RETURNING`: same concurrency behaviour as {@link recordInbox}.
 */
export async function recordInboxMany(
  db: PgDatabase,
  inbox: InboxTable,
  consumer: string,
  eventIds: readonly string[],
): Promise<Set<string>> {
  const unique = [...new Set(eventIds)];
  if (unique.length === 0) return new Set();
  const inserted = await db
    .insert(inbox)
    .values(unique.map((eventId) => ({ consumer, eventId })))
    .onConflictDoNothing({ target: [inbox.consumer, inbox.eventId] })
    .returning({ eventId: inbox.eventId });
  return new Set(inserted.map((row) => row.eventId));
}

/**
 * The relay's port over one outbox table. Several relays (replicas) may share it:
 * - a row is claimable when unpublished and not leased (or its lease expired); claiming leases it;
 * - **per-key order across relays**: a row is not claimable while an earlier unpublished row of the same
 *   key is leased by someone else — otherwise relay B could publish an order's second event before relay A
 *   publishes its first;
 * - claims are serialised by a transaction-scoped advisory lock per outbox table, so the check above sees
 *   every committed lease (a claim is one short statement; publishing happens outside it).
 * Lease times use the database clock, so relays on different hosts agree.
 */
export function createOutboxPort(db: PgDatabase, outbox: OutboxTable): OutboxPort {
  const { schema } = getTableConfig(outbox);
  const lockName = `${schema ?? 'public'}.${getTableName(outbox)}:claim`;
  const earlier = alias(outbox, 'earlier');
  return {
    async claim(limit, leaseMs) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`claim: limit must be a positive integer, got ${limit}`);
      const lease = Math.max(0, Math.ceil(leaseMs));
      const rows = await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${lockName}))`);
        const earlierLeased = tx
          .select({ one: sql`1` })
          .from(earlier)
          .where(
            and(
              eq(earlier.key, outbox.key),
              lt(earlier.id, outbox.id),
              isNull(earlier.publishedAt),
              gte(earlier.leaseUntil, sql`now()`),
            ),
          );
        const claimable = tx
          .select({ id: outbox.id })
          .from(outbox)
          .where(
            and(
              isNull(outbox.publishedAt),
              or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, sql`now()`)),
              notExists(earlierLeased),
            ),
          )
          .orderBy(asc(outbox.id))
          .limit(limit)
          .for('update', { skipLocked: true });
        return tx
          .update(outbox)
          .set({
            leaseUntil: sql`now() + ${lease}::integer * interval '1 millisecond'`,
            attempts: sql`${outbox.attempts} + 1`,
          })
          .where(inArray(outbox.id, claimable))
          .returning();
      });
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

/**
 * The consumers' durable attempt counts over one service's `consumer_attempts` table (see AttemptsPort).
 * `record` is one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, autocommit: it must survive the handler's
 * rollback, so it never runs inside the handler's transaction.
 */
export function createAttemptsPort(db: PgDatabase, attempts: AttemptsTable, inbox: InboxTable): AttemptsPort {
  return {
    async record(consumer, eventIds, change) {
      const unique = [...new Set(eventIds)];
      if (unique.length === 0) return new Map();
      const delta = Math.trunc(change.delta);
      const rows = await db
        .insert(attempts)
        .values(
          unique.map((eventId) => ({
            consumer,
            eventId,
            attempts: Math.max(0, delta),
            lastError: change.error ?? null,
          })),
        )
        .onConflictDoUpdate({
          target: [attempts.consumer, attempts.eventId],
          set: {
            attempts: sql`greatest(0, ${attempts.attempts} + ${delta}::integer)`,
            lastError: sql`coalesce(excluded.last_error, ${attempts.lastError})`,
            lastAttemptAt: sql`now()`,
          },
        })
        .returning({ eventId: attempts.eventId, attempts: attempts.attempts, lastError: attempts.lastError });
      return new Map(rows.map((row) => [row.eventId, { attempts: row.attempts, lastError: row.lastError }]));
    },
    async handled(consumer, eventId) {
      const rows = await db
        .select({ one: sql`1` })
        .from(inbox)
        .where(and(eq(inbox.consumer, consumer), eq(inbox.eventId, eventId)))
        .limit(1);
      return rows.length > 0;
    },
  };
}
