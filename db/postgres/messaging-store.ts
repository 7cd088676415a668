/**
 * Outbox and inbox queries, written once and parameterised by a service's tables (see messaging-schema.ts).
 * Each query function takes the database (or transaction) first.
 * @module
 */
import {
  and,
  asc,
  count,
  eq,
  getTableColumns,
  getTableName,
  gt,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  notExists,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { alias, getTableConfig } from 'drizzle-orm/pg-core';
import type { AttemptsPort, NewOutboxRecord, OutboxPort, OutboxRecord } from '../../runtime/store.ts';
import type { AppendedOutboxRow, OutboxHandOverSlot } from '../outbox-hand-over.ts';
import type { PgDatabase } from './connect.ts';
import type { AttemptsTable, InboxTable, OutboxTable } from './messaging-schema.ts';

/** Whom {@link appendOutbox} leases the rows it writes to (the attached relay), and for how long. */
export interface AppendLease {
  owner: string;
  leaseMs: number;
}

/**
 * Writes outbox rows; in a transaction they commit or roll back with the state change. One statement whatever
 * the number of rows (`insert … select … from unnest($1, …) with ordinality order by …`, so ids follow the
 * given order and PGlite's prepared statement is reused for every batch size). With a `lease`, a row is written
 * already leased to `lease.owner` (one claim counted) when no earlier unpublished row of its key exists;
 * otherwise — or without a lease — it is written unleased, for `claim`, which keeps it behind that row.
 * Returns the rows written, in id order.
 */
export async function appendOutbox(
  db: PgDatabase,
  outbox: OutboxTable,
  records: readonly NewOutboxRecord[],
  lease?: AppendLease,
): Promise<AppendedOutboxRow[]> {
  if (records.length === 0) return [];
  const param = (values: readonly unknown[]) => sql.param(values);
  const owner = sql`${sql.param(lease?.owner ?? null)}::varchar`;
  const leaseMs = Math.max(0, Math.ceil(lease?.leaseMs ?? 0));
  const earlierPending = sql`select 1 from ${outbox} as "earlier" where "earlier"."key" = "u"."key" and "earlier"."published_at" is null`;
  // Every insertable column, in the table's order (what `insert … select` fills).
  const values: Record<Exclude<keyof OutboxTable['_']['columns'], 'id'>, SQL> = {
    eventId: sql`"r"."event_id"::uuid`,
    topic: sql`"r"."topic"`,
    key: sql`"r"."key"`,
    value: sql`"r"."value"`,
    headers: sql`"r"."headers"::jsonb`,
    createdAt: sql`now()`,
    publishedAt: sql`null`,
    // clock_timestamp(), not now(): the lease counts from the write, not from the start of a long transaction.
    leaseUntil: sql`case when "r"."free" then clock_timestamp() + ${leaseMs}::integer * interval '1 millisecond' end`,
    attempts: sql`case when "r"."free" then 1 else 0 end`,
    failures: sql`0`,
    lastError: sql`null`,
    parkedAt: sql`null`,
    leaseOwner: sql`case when "r"."free" then ${owner} end`,
  };
  const columns = Object.entries(getTableColumns(outbox)).filter(([name]) => name !== 'id');
  const selected = sql.join(
    columns.map(([name]) => values[name as keyof typeof values]),
    sql`, `,
  );
  const rows = await db
    .insert(outbox)
    .select(
      sql`select ${selected} from (select "u".*, ${owner} is not null and not exists (${earlierPending}) as "free" from unnest(${param(records.map((r) => r.eventId))}::text[], ${param(records.map((r) => r.topic))}::varchar[], ${param(records.map((r) => r.key))}::varchar[], ${param(records.map((r) => r.value))}::text[], ${param(records.map((r) => JSON.stringify(r.headers)))}::text[]) with ordinality as "u"("event_id", "topic", "key", "value", "headers", "n")) as "r" order by "r"."n"`,
    )
    .returning();
  return rows
    .map((row) => ({ record: toOutboxRecord(row), leased: row.leaseOwner !== null }))
    .sort((a, b) => byId(a.record, b.record));
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

/** How the outbox port runs its claim transaction; the store base passes its own transaction config. */
export interface OutboxPortOptions {
  /** `{ isolationLevel: 'read committed' }` on a server; undefined on PGlite (one connection, the default). */
  transactionConfig?: { isolationLevel: 'read committed' } | undefined;
  /** The store's hand-over slot: the port's `attach` (absent: no hand-over, the relay claims). */
  handOver?: OutboxHandOverSlot;
}

/**
 * The relay's port over one outbox table. Several relays (replicas) may share it:
 * - a row is claimable when unpublished, not parked and not leased (or its lease expired); claiming leases it
 *   to the caller's owner id;
 * - **per-key order across relays**: a row is not claimable while an earlier unpublished row of the same
 *   key is leased (by a relay, or waiting out a failure's retry delay) or parked — otherwise relay B could
 *   publish an order's second event before relay A publishes its first;
 * - claims are serialised by a transaction-scoped advisory lock per outbox table, so the check above sees
 *   every committed lease (a claim is one short statement; publishing happens outside it). The claim
 *   transaction runs at READ COMMITTED on a server whatever its default: at REPEATABLE READ a claim that waited
 *   for the lock would still see its old snapshot and fail with 40001 on the rows the previous claim leased;
 * - `markPublished`, `release` and `recordFailures` only touch rows the caller's owner id holds.
 * Lease times use the database clock, so relays on different hosts agree.
 */
export function createOutboxPort(
  db: PgDatabase,
  outbox: OutboxTable,
  options: OutboxPortOptions = {},
): OutboxPort {
  const { schema } = getTableConfig(outbox);
  const lockName = `${schema ?? 'public'}.${getTableName(outbox)}:claim`;
  const earlier = alias(outbox, 'earlier');
  /** Rows whose lease `owner` holds (no owner: rows claimed without one). */
  const ownedBy = (owner: string | undefined) =>
    owner === undefined ? isNull(outbox.leaseOwner) : eq(outbox.leaseOwner, owner);
  /** `id = any($1)`: one statement text (one prepared statement) for any number of ids. */
  const anyId = (ids: readonly bigint[]) => sql`${outbox.id} = any(${sql.param(ids.map(String))}::bigint[])`;
  const unpublished = isNull(outbox.publishedAt);
  const parked = and(isNotNull(outbox.parkedAt), unpublished);
  return {
    ...(options.handOver === undefined ? {} : { attach: options.handOver.attach }),
    async claim(limit, leaseMs, owner) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`claim: limit must be a positive integer, got ${limit}`);
      const lease = Math.max(0, Math.ceil(leaseMs));
      const rows = await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${lockName}))`);
        const earlierHeld = tx
          .select({ one: sql`1` })
          .from(earlier)
          .where(
            and(
              eq(earlier.key, outbox.key),
              lt(earlier.id, outbox.id),
              isNull(earlier.publishedAt),
              or(gte(earlier.leaseUntil, sql`now()`), isNotNull(earlier.parkedAt)),
            ),
          );
        const claimable = tx
          .select({ id: outbox.id })
          .from(outbox)
          .where(
            and(
              unpublished,
              isNull(outbox.parkedAt),
              or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, sql`now()`)),
              notExists(earlierHeld),
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
            leaseOwner: owner ?? null,
          })
          .where(inArray(outbox.id, claimable))
          .returning();
      }, options.transactionConfig);
      return rows.map(toOutboxRecord).sort(byId);
    },
    async markPublished(ids, owner) {
      if (ids.length === 0) return 0;
      // Nothing reads a published row (ARCHITECTURE.md, "Published rows are deleted"): delete it, which costs
      // no new row version and no index entries, and leaves the pruner nothing to do.
      const ended = await db
        .delete(outbox)
        .where(and(anyId(ids), unpublished, ownedBy(owner)))
        .returning({ id: outbox.id });
      return ended.length;
    },
    async release(ids, owner) {
      if (ids.length === 0) return 0;
      const released = await db
        .update(outbox)
        .set({ leaseUntil: null, leaseOwner: null })
        .where(and(anyId(ids), unpublished, ownedBy(owner)))
        .returning({ id: outbox.id });
      return released.length;
    },
    async recordFailures(failures, { owner, retryInMs, parkAfter }) {
      const retry = Math.max(0, Math.ceil(retryInMs));
      const parks = sql`${outbox.failures} + 1 >= ${parkAfter}::integer`;
      const parkedIds: bigint[] = [];
      for (const { id, error } of failures) {
        const [row] = await db
          .update(outbox)
          .set({
            failures: sql`${outbox.failures} + 1`,
            lastError: error,
            parkedAt: sql`case when ${parks} then now() end`,
            leaseUntil: sql`case when ${parks} then null else now() + ${retry}::integer * interval '1 millisecond' end`,
          })
          .where(and(eq(outbox.id, id), unpublished, isNull(outbox.parkedAt), ownedBy(owner)))
          .returning({ id: outbox.id, parkedAt: outbox.parkedAt });
        if (row?.parkedAt != null) parkedIds.push(row.id);
      }
      return parkedIds;
    },
    async pendingCount() {
      const [row] = await db.select({ n: count() }).from(outbox).where(unpublished);
      return row?.n ?? 0;
    },
    async parkedCount() {
      const [row] = await db.select({ n: count() }).from(outbox).where(parked);
      return row?.n ?? 0;
    },
    async oldestPendingAt() {
      // The oldest unpublished row has the lowest id: one probe of the unpublished index.
      const [row] = await db
        .select({ at: outbox.createdAt })
        .from(outbox)
        .where(unpublished)
        .orderBy(asc(outbox.id))
        .limit(1);
      return row?.at ?? null;
    },
    async listParked({ limit = 100, afterId = 0n } = {}) {
      const rows = await db
        .select()
        .from(outbox)
        .where(and(parked, gt(outbox.id, afterId)))
        .orderBy(asc(outbox.id))
        .limit(limit);
      return rows.map((row) => ({
        ...toOutboxRecord(row),
        parkedAt: row.parkedAt ?? new Date(0),
        lastError: row.lastError,
      }));
    },
    async republish(target) {
      if ('ids' in target && target.ids.length === 0) return 0;
      const rows = await db
        .update(outbox)
        .set({ parkedAt: null, failures: 0, leaseUntil: null, leaseOwner: null })
        .where('ids' in target ? and(parked, anyId(target.ids)) : parked)
        .returning({ id: outbox.id });
      return rows.length;
    },
  };
}

/**
 * Deletes at most `limit` outbox rows published before `before`: the ids come from an index range scan on
 * the partial index `outbox_published_at_idx` (published rows only), so unpublished rows — parked ones
 * included — are never candidates. Returns the statement; {@link pruneOutbox} runs it.
 */
export function pruneOutboxQuery(db: PgDatabase, outbox: OutboxTable, before: Date, limit: number) {
  const doomed = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(isNotNull(outbox.publishedAt), lt(outbox.publishedAt, before)))
    .limit(limit);
  return db.delete(outbox).where(inArray(outbox.id, doomed)).returning({ id: outbox.id });
}

/** Deletes at most `limit` inbox rows handled before `before` (index `inbox_handled_at_idx`), by primary key. */
export function pruneInboxQuery(db: PgDatabase, inbox: InboxTable, before: Date, limit: number) {
  const doomed = alias(inbox, 'doomed');
  const keys = db
    .select({ consumer: doomed.consumer, eventId: doomed.eventId })
    .from(doomed)
    .where(lt(doomed.handledAt, before))
    .limit(limit);
  return db
    .delete(inbox)
    .where(sql`(${inbox.consumer}, ${inbox.eventId}) in (${keys})`)
    .returning({ consumer: inbox.consumer });
}

/** Deletes at most `limit` attempt records last attempted before `before` (index on `last_attempt_at`), by key. */
export function pruneAttemptsQuery(db: PgDatabase, attempts: AttemptsTable, before: Date, limit: number) {
  const doomed = alias(attempts, 'doomed');
  const keys = db
    .select({ consumer: doomed.consumer, eventId: doomed.eventId })
    .from(doomed)
    .where(lt(doomed.lastAttemptAt, before))
    .limit(limit);
  return db
    .delete(attempts)
    .where(sql`(${attempts.consumer}, ${attempts.eventId}) in (${keys})`)
    .returning({ consumer: attempts.consumer });
}

/** Runs {@link pruneOutboxQuery}; returns how many rows it deleted. */
export async function pruneOutbox(db: PgDatabase, outbox: OutboxTable, before: Date, limit: number) {
  return (await pruneOutboxQuery(db, outbox, before, limit)).length;
}

/** Runs {@link pruneInboxQuery}; returns how many rows it deleted. */
export async function pruneInbox(db: PgDatabase, inbox: InboxTable, before: Date, limit: number) {
  return (await pruneInboxQuery(db, inbox, before, limit)).length;
}

/** Runs {@link pruneAttemptsQuery}; returns how many rows it deleted. */
export async function pruneAttempts(db: PgDatabase, attempts: AttemptsTable, before: Date, limit: number) {
  return (await pruneAttemptsQuery(db, attempts, before, limit)).length;
}

const byId = (a: { id: bigint }, b: { id: bigint }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

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
    failures: row.failures,
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
