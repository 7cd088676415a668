/**
 * Outbox and inbox over SQL Server, written once for every service (the statements are in
 * `messaging-statements.ts`). Each function takes the database or transaction first.
 * @module
 */
import type { NewOutboxRecord, OutboxPort, OutboxRecord } from '../../runtime/store.ts';
import type { AppendedOutboxRow, OutboxHandOverSlot } from '../outbox-hand-over.ts';
import type { MssqlDb } from './connect.ts';
import type { AttemptsTable, InboxTable, OutboxTable } from './messaging-schema.ts';
import {
  type AppendLease,
  appendOutboxStatement,
  claimLockStatement,
  claimOutboxStatement,
  listParkedStatement,
  markPublishedStatement,
  OUTBOX_ROWS_PER_STATEMENT,
  oldestPendingStatement,
  parkedCountStatement,
  pendingCountStatement,
  pruneAttemptsStatement,
  pruneInboxStatement,
  pruneOutboxStatement,
  recordFailureStatement,
  recordInboxStatement,
  releaseStatement,
  republishStatement,
} from './messaging-statements.ts';

/** How long a claim waits for another relay's claim on the same table (a claim takes milliseconds). */
const CLAIM_LOCK_TIMEOUT_MS = 10_000;

/** Longest lease `dateadd(millisecond, …)` takes: an `int`. */
const MAX_LEASE_MS = 2_147_483_647;

/**
 * Writes outbox rows in order; in a transaction they commit or roll back with the state change. With a `lease`
 * (the attached relay), rows without an earlier unpublished row of their key are written leased to it (see
 * `appendOutboxStatement`). Returns the rows written, in id order.
 */
export async function appendOutbox(
  db: MssqlDb,
  outbox: OutboxTable,
  records: readonly NewOutboxRecord[],
  lease?: AppendLease,
): Promise<AppendedOutboxRow[]> {
  const bounded =
    lease === undefined ? undefined : { owner: lease.owner, leaseMs: Math.min(MAX_LEASE_MS, lease.leaseMs) };
  const written: AppendedOutboxRow[] = [];
  for (let i = 0; i < records.length; i += OUTBOX_ROWS_PER_STATEMENT) {
    const rows = await appendOutboxStatement(
      db,
      outbox,
      records.slice(i, i + OUTBOX_ROWS_PER_STATEMENT),
      bounded,
    ).execute();
    written.push(...rows.map((row) => ({ record: toOutboxRecord(row), leased: row.leaseOwner !== null })));
  }
  // OUTPUT returns rows in no particular order.
  return written.sort((a, b) => byId(a.record, b.record));
}

/** Records `(consumer, eventId)`; false when it was already there. */
export async function recordInbox(
  db: MssqlDb,
  inbox: InboxTable,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const inserted = await recordInboxStatement(db, inbox, consumer, eventId);
  return inserted.length > 0;
}

/**
 * The relay's port over one outbox table; safe with several relay replicas. A claim is one transaction:
 * the per-table claim lock, then the claim statement (see `claimOutboxStatement` for how rows are picked).
 * `markPublished`, `release` and `recordFailures` only touch rows the caller's owner id holds.
 */
export function createOutboxPort(
  db: MssqlDb,
  outbox: OutboxTable,
  options: { handOver?: OutboxHandOverSlot } = {},
): OutboxPort {
  return {
    ...(options.handOver === undefined ? {} : { attach: options.handOver.attach }),
    async claim(limit, leaseMs, owner) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`claim: limit must be a positive integer, got ${limit}`);
      const lease = Math.min(MAX_LEASE_MS, Math.max(0, Math.ceil(leaseMs)));
      const rows = await db.transaction(
        async (tx) => {
          const status = await claimLockStatement(tx, outbox, CLAIM_LOCK_TIMEOUT_MS).execute();
          if (status < 0)
            throw new Error(`outbox claim: claim lock not granted (sp_getapplock status ${status})`);
          return claimOutboxStatement(tx, outbox, limit, lease, owner).execute();
        },
        { isolationLevel: 'read committed' },
      );
      // OUTPUT returns rows in no particular order.
      return rows.map(toOutboxRecord).sort(byId);
    },
    async markPublished(ids, owner) {
      if (ids.length === 0) return 0;
      return (await markPublishedStatement(db, outbox, ids, owner)).length;
    },
    async release(ids, owner) {
      if (ids.length === 0) return 0;
      return (await releaseStatement(db, outbox, ids, owner)).length;
    },
    async recordFailures(failures, { owner, retryInMs, parkAfter }) {
      const options = {
        owner,
        retryInMs: Math.min(MAX_LEASE_MS, Math.max(0, Math.ceil(retryInMs))),
        parkAfter,
      };
      const parked: bigint[] = [];
      for (const failure of failures) {
        const [row] = await recordFailureStatement(db, outbox, failure, options);
        if (row?.inserted.parkedAt != null) parked.push(row.inserted.id);
      }
      return parked;
    },
    async pendingCount() {
      const [row] = await pendingCountStatement(db, outbox);
      return row?.n ?? 0;
    },
    async parkedCount() {
      const [row] = await parkedCountStatement(db, outbox);
      return row?.n ?? 0;
    },
    async oldestPendingAt() {
      const [row] = await oldestPendingStatement(db, outbox);
      return row?.at ?? null;
    },
    async listParked({ limit = 100, afterId = 0n } = {}) {
      const rows = await listParkedStatement(db, outbox, afterId, limit);
      return rows.map((row) => ({
        ...toOutboxRecord(row),
        parkedAt: row.parkedAt ?? new Date(0),
        lastError: row.lastError,
      }));
    },
    async republish(target) {
      if ('all' in target) return (await republishStatement(db, outbox, 'all')).length;
      if (target.ids.length === 0) return 0;
      return (await republishStatement(db, outbox, target.ids)).length;
    },
  };
}

/** Deletes at most `limit` outbox rows published before `before`; unpublished and parked rows stay. */
export function pruneOutbox(db: MssqlDb, outbox: OutboxTable, before: Date, limit: number): Promise<number> {
  return pruneOutboxStatement(db, outbox, before, limit).execute();
}

/** Deletes at most `limit` inbox rows handled before `before`. */
export function pruneInbox(db: MssqlDb, inbox: InboxTable, before: Date, limit: number): Promise<number> {
  return pruneInboxStatement(db, inbox, before, limit).execute();
}

/** Deletes at most `limit` consumer attempt records last attempted before `before`. */
export function pruneAttempts(
  db: MssqlDb,
  attempts: AttemptsTable,
  before: Date,
  limit: number,
): Promise<number> {
  return pruneAttemptsStatement(db, attempts, before, limit).execute();
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
