/**
 * The outbox and inbox statements, written once and parameterised by a service's tables
 * (`messaging-schema.ts`). Each takes the database or transaction first and returns a `Statement`.
 * @module
 */
import { and, count, inArray, isNull, sql } from 'drizzle-orm';
import { getTableConfig, type MsSqlColumn } from 'drizzle-orm/mssql-core';
import type { NewOutboxRecord } from '../../runtime/store.ts';
import type { MssqlDb } from './connect.ts';
import type { InboxTable, OutboxTable } from './messaging-schema.ts';
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
/** Ids per `markPublished` / `release` statement, under the 2 100-parameter limit. */
export const IDS_PER_STATEMENT = 1000;

/**
 * Inserts outbox rows in the order given. A multi-row `VALUES` insert does not promise identity values in
 * row order; `INSERT … SELECT … ORDER BY` does, and the relay publishes in id order, so that is what this is.
 * Call it with at most `OUTBOX_ROWS_PER_STATEMENT` records (`appendOutbox` in messaging-store.ts splits).
 */
export function appendOutboxStatement(
  db: MssqlDb,
  outbox: OutboxTable,
  records: readonly NewOutboxRecord[],
): Statement<number> {
  if (records.length === 0 || records.length > OUTBOX_ROWS_PER_STATEMENT)
    throw new RangeError(
      `appendOutboxStatement: 1 to ${OUTBOX_ROWS_PER_STATEMENT} records, got ${records.length}`,
    );
  const targets = sql.join(
    [outbox.eventId, outbox.topic, outbox.key, outbox.value, outbox.headers].map(col),
    sql`, `,
  );
  const rows = sql.join(
    records.map(
      (r, i) =>
        sql`(${r.eventId}, ${r.topic}, ${r.key}, ${r.value}, ${JSON.stringify(r.headers)}, ${sql.raw(String(i))})`,
    ),
    sql`, `,
  );
  return rawStatement(
    db,
    sql`insert into ${outbox} (${targets}) select ${targets} from (values ${rows}) as [rows] (${targets}, [ord]) order by [ord]`,
    rowsAffected,
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

/**
 * Leases up to `limit` claimable rows, oldest first, in one statement:
 *
 * ```sql
 * with [claimable] as (
 *   select top (@limit) … from outbox as [candidate] with (updlock, readpast, rowlock)
 *   where published_at is null and (lease_until is null or lease_until < sysutcdatetime())
 *     and not exists (select 1 from outbox as [earlier] where [earlier].key = [candidate].key
 *                     and [earlier].id < [candidate].id and [earlier].published_at is null
 *                     and [earlier].lease_until >= sysutcdatetime())
 *   order by id)
 * update [claimable] set lease_until = dateadd(millisecond, @lease, sysutcdatetime()), attempts = attempts + 1
 * output inserted.…
 * ```
 *
 * - `UPDATE TOP (n)` has no `ORDER BY`, so the oldest-first pick is a `TOP … ORDER BY` CTE and the update
 *   goes through it.
 * - `UPDLOCK` makes the pick a locking read (also under READ_COMMITTED_SNAPSHOT) holding U locks no other
 *   claimer can share; `READPAST` skips rows someone else has locked instead of waiting; `ROWLOCK` keeps
 *   those locks on rows. After the statement the lease (`lease_until`, database clock) keeps the rows from
 *   every other relay until it expires or is released.
 * - Per-key order across relays: a row is not claimable while an earlier unpublished row of its key is
 *   leased (by another relay), so relay B never publishes an order's second event before relay A its first.
 *   The `[earlier]` probe deliberately has no `READPAST`: skipping a locked earlier row could miss a lease.
 *   Claims run one at a time per outbox table (`claimLockStatement`), so the probe sees every lease.
 */
export function claimOutboxStatement(db: MssqlDb, outbox: OutboxTable, limit: number, leaseMs: number) {
  const candidate = (column: MsSqlColumn) => sql`[candidate].${col(column)}`;
  const earlier = (column: MsSqlColumn) => sql`[earlier].${col(column)}`;
  const earlierLeased = sql`select 1 from ${outbox} as [earlier] where ${earlier(outbox.key)} = ${candidate(outbox.key)} and ${earlier(outbox.id)} < ${candidate(outbox.id)} and ${earlier(outbox.publishedAt)} is null and ${earlier(outbox.leaseUntil)} >= sysutcdatetime()`;
  return rawStatement(
    db,
    sql`with [claimable] as (select top (${limit}) ${columnList(outbox, '[candidate].')} from ${outbox} as [candidate] with (updlock, readpast, rowlock) where ${candidate(outbox.publishedAt)} is null and (${candidate(outbox.leaseUntil)} is null or ${candidate(outbox.leaseUntil)} < sysutcdatetime()) and not exists (${earlierLeased}) order by ${candidate(outbox.id)}) update [claimable] set ${col(outbox.leaseUntil)} = dateadd(millisecond, ${leaseMs}, sysutcdatetime()), ${col(outbox.attempts)} = ${col(outbox.attempts)} + 1 output ${columnList(outbox, 'inserted.')}`,
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

/** Marks rows published (idempotent: already published rows keep their first timestamp). */
export function markPublishedStatement(db: MssqlDb, outbox: OutboxTable, ids: readonly bigint[]) {
  return db
    .update(outbox)
    .set({ publishedAt: sql`sysutcdatetime()`, leaseUntil: null })
    .where(and(inArray(outbox.id, [...ids]), isNull(outbox.publishedAt)));
}

/** Ends the lease of unpublished rows, so the next claim takes them at once. */
export function releaseStatement(db: MssqlDb, outbox: OutboxTable, ids: readonly bigint[]) {
  return db
    .update(outbox)
    .set({ leaseUntil: null })
    .where(and(inArray(outbox.id, [...ids]), isNull(outbox.publishedAt)));
}

/** Unpublished rows, leased or not. */
export function pendingCountStatement(db: MssqlDb, outbox: OutboxTable) {
  return db.select({ n: count() }).from(outbox).where(isNull(outbox.publishedAt));
}
