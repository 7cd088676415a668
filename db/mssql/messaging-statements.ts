/**
 * The outbox and inbox statements, written once and parameterised by a service's tables
 * (`messaging-schema.ts`). Each takes the database or transaction first and returns a `Statement`.
 * @module
 */
import { and, asc, count, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import { getTableConfig, type MsSqlColumn } from 'drizzle-orm/mssql-core';
import type { NewOutboxRecord } from '../../runtime/store.ts';
import type { MssqlDb } from './connect.ts';
import type { AttemptsTable, InboxTable, OutboxTable } from './messaging-schema.ts';
import {
  appLockStatement,
  col,
  columnList,
  insertUnlessExists,
  rawStatement,
  rowsAffected,
  rowsOf,
  type Statement,
} from './statement.ts';

/** Rows per `appendOutbox` statement: 5 parameters each, under SQL Server's 2 100-parameter limit. */
export const OUTBOX_ROWS_PER_STATEMENT = 400;

/** Whom `appendOutboxStatement` leases the rows it writes to (the attached relay), and for how long. */
export interface AppendLease {
  owner: string;
  /** At most 2 147 483 647 (`dateadd` takes an `int`). */
  leaseMs: number;
}

/**
 * Inserts outbox rows in the order given and outputs them. A multi-row `VALUES` insert does not promise
 * identity values in row order; `INSERT … SELECT … ORDER BY` does, and the relay publishes in id order, so that
 * is what this is. With a `lease`, a row is written already leased to `lease.owner` (one claim counted) when no
 * earlier unpublished row of its key exists — the `[earlier]` probe, as in the claim — otherwise, or without a
 * lease, unleased, for the claim, which keeps it behind that row:
 *
 * ```sql
 * insert into outbox (event_id, topic, [key], value, headers, lease_owner, lease_until, attempts)
 * output inserted.…
 * select …, case when [free] = 1 then @owner end, case when [free] = 1 then dateadd(millisecond, @lease,
 *   sysutcdatetime()) end, case when [free] = 1 then 1 else 0 end
 * from (select [v].*, case when @owner is not null and not exists (select 1 from outbox as [earlier]
 *         where [earlier].[key] = [v].[key] and [earlier].published_at is null) then 1 else 0 end as [free]
 *       from (values (…, 0), (…, 1)) as [v] (…, [ord])) as [rows]
 * order by [ord]
 * ```
 *
 * `OUTPUT` without `INTO` is fine: the outbox has no triggers. Call it with at most `OUTBOX_ROWS_PER_STATEMENT`
 * records (`appendOutbox` in messaging-store.ts splits).
 */
export function appendOutboxStatement(
  db: MssqlDb,
  outbox: OutboxTable,
  records: readonly NewOutboxRecord[],
  lease?: AppendLease,
) {
  if (records.length === 0 || records.length > OUTBOX_ROWS_PER_STATEMENT)
    throw new RangeError(
      `appendOutboxStatement: 1 to ${OUTBOX_ROWS_PER_STATEMENT} records, got ${records.length}`,
    );
  const given = [outbox.eventId, outbox.topic, outbox.key, outbox.value, outbox.headers];
  const targets = sql.join(
    [...given, outbox.leaseOwner, outbox.leaseUntil, outbox.attempts].map(col),
    sql`, `,
  );
  const givenList = sql.join(given.map(col), sql`, `);
  const fromRows = (column: MsSqlColumn) => sql`[rows].${col(column)}`;
  const rows = sql.join(
    records.map(
      (r, i) =>
        sql`(${r.eventId}, ${r.topic}, ${r.key}, ${r.value}, ${JSON.stringify(r.headers)}, ${sql.raw(String(i))})`,
    ),
    sql`, `,
  );
  const owner = sql.param(lease?.owner ?? null, outbox.leaseOwner);
  const leaseMs = Math.max(0, Math.ceil(lease?.leaseMs ?? 0));
  const earlierPending = sql`select 1 from ${outbox} as [earlier] where [earlier].${col(outbox.key)} = [v].${col(outbox.key)} and [earlier].${col(outbox.publishedAt)} is null`;
  return rawStatement(
    db,
    sql`insert into ${outbox} (${targets}) output ${columnList(outbox, 'inserted.')} select ${sql.join(given.map(fromRows), sql`, `)}, case when [rows].[free] = 1 then ${owner} end, case when [rows].[free] = 1 then dateadd(millisecond, ${leaseMs}, sysutcdatetime()) end, case when [rows].[free] = 1 then 1 else 0 end from (select [v].*, case when ${owner} is not null and not exists (${earlierPending}) then 1 else 0 end as [free] from (values ${rows}) as [v] (${givenList}, [ord])) as [rows] order by [rows].[ord]`,
    rowsOf(outbox),
  );
}

/**
 * Records `(consumer, eventId)`; true when this call inserted it, false for a duplicate. A concurrent
 * duplicate waits in the `UPDLOCK, HOLDLOCK` probe for the first transaction, so exactly one caller gets true
 * and none sees a unique violation (see `insertUnlessExists`).
 */
export function recordInboxStatement(db: MssqlDb, inbox: InboxTable, consumer: string, eventId: string) {
  return insertUnlessExists(db, inbox, { consumer, eventId }, ['consumer', 'eventId']);
}

/** `lease_owner` is `owner` (no owner: NULL, the rows claimed without one). */
const ownedBy = (outbox: OutboxTable, owner: string | undefined) =>
  owner === undefined ? isNull(outbox.leaseOwner) : eq(outbox.leaseOwner, owner);

/**
 * Leases up to `limit` claimable rows, oldest first, to `owner`, in one statement:
 *
 * ```sql
 * with [claimable] as (
 *   select top (@limit) … from outbox as [candidate] with (updlock, readpast, rowlock, readcommittedlock)
 *   where published_at is null and parked_at is null
 *     and (lease_until is null or lease_until < sysutcdatetime())
 *     and not exists (select 1 from outbox as [earlier] where [earlier].key = [candidate].key
 *                     and [earlier].id < [candidate].id and [earlier].published_at is null
 *                     and ([earlier].lease_until >= sysutcdatetime() or [earlier].parked_at is not null))
 *   order by id)
 * update [claimable] set lease_until = dateadd(millisecond, @lease, sysutcdatetime()), attempts = attempts + 1,
 *   lease_owner = @owner
 * output inserted.…
 * ```
 *
 * - `UPDATE TOP (n)` has no `ORDER BY`, so the oldest-first pick is a `TOP … ORDER BY` CTE and the update
 *   goes through it.
 * - `UPDLOCK` makes the pick a locking read holding U locks no other claimer can share; `READPAST` skips rows
 *   someone else has locked instead of waiting; `ROWLOCK` keeps those locks on rows. `READCOMMITTEDLOCK`
 *   makes the hint list legal whatever the database's READ_COMMITTED_SNAPSHOT: SQL Server refuses `READPAST`
 *   in a READ COMMITTED transaction of a database with READ_COMMITTED_SNAPSHOT ON unless the table also has
 *   `READCOMMITTEDLOCK` (which asks for READ COMMITTED by locking, i.e. what the setting OFF does anyway).
 *   After the statement the lease (`lease_until`, database clock) keeps the rows from every other relay until
 *   it expires or its owner releases it.
 * - Per-key order across relays: a row is not claimable while an earlier unpublished row of its key is
 *   leased (by another relay, or waiting out a failure's retry delay) or parked, so relay B never publishes an
 *   order's second event before relay A its first. The `[earlier]` probe deliberately has no `READPAST`:
 *   skipping a locked earlier row could miss a lease. Claims run one at a time per outbox table
 *   (`claimLockStatement`), so the probe sees every lease.
 */
export function claimOutboxStatement(
  db: MssqlDb,
  outbox: OutboxTable,
  limit: number,
  leaseMs: number,
  owner?: string,
) {
  const candidate = (column: MsSqlColumn) => sql`[candidate].${col(column)}`;
  const earlier = (column: MsSqlColumn) => sql`[earlier].${col(column)}`;
  const earlierHeld = sql`select 1 from ${outbox} as [earlier] where ${earlier(outbox.key)} = ${candidate(outbox.key)} and ${earlier(outbox.id)} < ${candidate(outbox.id)} and ${earlier(outbox.publishedAt)} is null and (${earlier(outbox.leaseUntil)} >= sysutcdatetime() or ${earlier(outbox.parkedAt)} is not null)`;
  return rawStatement(
    db,
    sql`with [claimable] as (select top (${limit}) ${columnList(outbox, '[candidate].')} from ${outbox} as [candidate] with (updlock, readpast, rowlock, readcommittedlock) where ${candidate(outbox.publishedAt)} is null and ${candidate(outbox.parkedAt)} is null and (${candidate(outbox.leaseUntil)} is null or ${candidate(outbox.leaseUntil)} < sysutcdatetime()) and not exists (${earlierHeld}) order by ${candidate(outbox.id)}) update [claimable] set ${col(outbox.leaseUntil)} = dateadd(millisecond, ${leaseMs}, sysutcdatetime()), ${col(outbox.attempts)} = ${col(outbox.attempts)} + 1, ${col(outbox.leaseOwner)} = ${sql.param(owner ?? null, outbox.leaseOwner)} output ${columnList(outbox, 'inserted.')}`,
    rowsOf(outbox),
  );
}

/**
 * Serialises claims on one outbox table for the rest of the transaction (`sp_getapplock`, transaction
 * owner; SQL Server's counterpart of PostgreSQL's `pg_advisory_xact_lock`). A claim is one short
 * statement and publishing happens outside it, so relays queue here for milliseconds. Resolves to the
 * `sp_getapplock` status: 0 or 1 granted, negative not granted (-1 = timed out after `timeoutMs`).
 */
export function claimLockStatement(db: MssqlDb, outbox: OutboxTable, timeoutMs: number): Statement<number> {
  const { schema, name } = getTableConfig(outbox);
  return appLockStatement(db, `${schema ?? 'dbo'}.${name}:claim`, 'Transaction', timeoutMs);
}

/**
 * `[id] in (select … from openjson(@ids))`: the ids as one JSON parameter, so the statement text (and its
 * cached plan) is the same for any number of ids, and no 2 100-parameter limit applies.
 */
const anyId = (outbox: OutboxTable, ids: readonly bigint[]) =>
  sql`${outbox.id} in (select cast([value] as bigint) from openjson(${JSON.stringify(ids.map(String))}))`;

/**
 * Ends the rows `owner` holds as published by deleting them (nothing reads a published row); outputs the ids
 * it deleted.
 */
export function markPublishedStatement(
  db: MssqlDb,
  outbox: OutboxTable,
  ids: readonly bigint[],
  owner?: string,
) {
  return db
    .delete(outbox)
    .output({ id: outbox.id })
    .where(and(anyId(outbox, ids), isNull(outbox.publishedAt), ownedBy(outbox, owner)));
}

/** Ends `owner`'s lease of unpublished rows, so the next claim takes them at once; outputs the ids. */
export function releaseStatement(db: MssqlDb, outbox: OutboxTable, ids: readonly bigint[], owner?: string) {
  return db
    .update(outbox)
    .set({ leaseUntil: null, leaseOwner: null })
    .output({ inserted: { id: outbox.id } })
    .where(and(anyId(outbox, ids), isNull(outbox.publishedAt), ownedBy(outbox, owner)));
}

/**
 * Charges one failed publish to a row `owner` holds: `failures + 1`, the error, and either a retry delay
 * (`lease_until` pushed out by `retryInMs`) or, at `parkAfter` failures, `parked_at`. SET expressions read
 * the row as it was, so `failures + 1` is the new count in both CASEs. Outputs the id and `parked_at`.
 */
export function recordFailureStatement(
  db: MssqlDb,
  outbox: OutboxTable,
  failure: { id: bigint; error: string },
  options: { owner?: string | undefined; retryInMs: number; parkAfter: number },
) {
  const parks = sql`${col(outbox.failures)} + 1 >= ${options.parkAfter}`;
  return db
    .update(outbox)
    .set({
      failures: sql`${col(outbox.failures)} + 1`,
      lastError: failure.error,
      parkedAt: sql`case when ${parks} then sysutcdatetime() end`,
      leaseUntil: sql`case when ${parks} then null else dateadd(millisecond, ${options.retryInMs}, sysutcdatetime()) end`,
    })
    .output({ inserted: { id: outbox.id, parkedAt: outbox.parkedAt } })
    .where(
      and(
        eq(outbox.id, failure.id),
        isNull(outbox.publishedAt),
        isNull(outbox.parkedAt),
        ownedBy(outbox, options.owner),
      ),
    );
}

/** Unpublished rows, leased, parked or not. */
export function pendingCountStatement(db: MssqlDb, outbox: OutboxTable) {
  return db.select({ n: count() }).from(outbox).where(isNull(outbox.publishedAt));
}

/** When the oldest unpublished row was written (the lowest unpublished id). */
export function oldestPendingStatement(db: MssqlDb, outbox: OutboxTable) {
  return db
    .select({ at: outbox.createdAt })
    .top(1)
    .from(outbox)
    .where(isNull(outbox.publishedAt))
    .orderBy(asc(outbox.id));
}

const parked = (outbox: OutboxTable) => and(isNotNull(outbox.parkedAt), isNull(outbox.publishedAt));

/** Parked rows (the filtered index `outbox_parked_idx`). */
export function parkedCountStatement(db: MssqlDb, outbox: OutboxTable) {
  return db.select({ n: count() }).from(outbox).where(parked(outbox));
}

/** Up to `limit` parked rows after `afterId`, in id order. */
export function listParkedStatement(db: MssqlDb, outbox: OutboxTable, afterId: bigint, limit: number) {
  return db
    .select()
    .top(limit)
    .from(outbox)
    .where(and(parked(outbox), gt(outbox.id, afterId)))
    .orderBy(asc(outbox.id));
}

/** Unparks rows (these ids, or every parked row) with their failures reset; outputs the ids. */
export function republishStatement(db: MssqlDb, outbox: OutboxTable, ids: readonly bigint[] | 'all') {
  return db
    .update(outbox)
    .set({ parkedAt: null, failures: 0, leaseUntil: null, leaseOwner: null })
    .output({ inserted: { id: outbox.id } })
    .where(ids === 'all' ? parked(outbox) : and(parked(outbox), anyId(outbox, ids)));
}

/**
 * `delete top (@limit)` of outbox rows published before `before`. The explicit `published_at is not null`
 * matches the filtered index `outbox_published_at_idx`; unpublished (and parked) rows are never touched.
 */
export function pruneOutboxStatement(db: MssqlDb, outbox: OutboxTable, before: Date, limit: number) {
  return rawStatement(
    db,
    sql`delete top (${limit}) from ${outbox} where ${col(outbox.publishedAt)} is not null and ${col(outbox.publishedAt)} < ${before}`,
    rowsAffected,
  );
}

/** `delete top (@limit)` of inbox rows handled before `before` (index `inbox_handled_at_idx`). */
export function pruneInboxStatement(db: MssqlDb, inbox: InboxTable, before: Date, limit: number) {
  return rawStatement(
    db,
    sql`delete top (${limit}) from ${inbox} where ${col(inbox.handledAt)} < ${before}`,
    rowsAffected,
  );
}

/** `delete top (@limit)` of attempt records last attempted before `before` (index on `last_attempt_at`). */
export function pruneAttemptsStatement(db: MssqlDb, attempts: AttemptsTable, before: Date, limit: number) {
  return rawStatement(
    db,
    sql`delete top (${limit}) from ${attempts} where ${col(attempts.lastAttemptAt)} < ${before}`,
    rowsAffected,
  );
}
