/**
 * Outbox and inbox over SQL Server, written once for every service (the statements are in
 * `messaging-statements.ts`). Each function takes the database or transaction first.
 * @module
 */
import type { NewOutboxRecord, OutboxPort, OutboxRecord } from '../../runtime/store.ts';
import type { MssqlDb } from './connect.ts';
import type { InboxTable, OutboxTable } from './messaging-schema.ts';
import {
  appendOutboxStatement,
  claimLockStatement,
  claimOutboxStatement,
  IDS_PER_STATEMENT,
  markPublishedStatement,
  OUTBOX_ROWS_PER_STATEMENT,
  pendingCountStatement,
  recordInboxStatement,
  releaseStatement,
} from './messaging-statements.ts';

/** How long a claim waits for another relay's claim on the same table (a claim takes milliseconds). */
const CLAIM_LOCK_TIMEOUT_MS = 10_000;

/** Longest lease `dateadd(millisecond, …)` takes: an `int`. */
const MAX_LEASE_MS = 2_147_483_647;

/** Writes outbox rows in order; in a transaction they commit or roll back with the state change. */
export async function appendOutbox(
  db: MssqlDb,
  outbox: OutboxTable,
  records: readonly NewOutboxRecord[],
): Promise<void> {
  for (let i = 0; i < records.length; i += OUTBOX_ROWS_PER_STATEMENT) {
    await appendOutboxStatement(db, outbox, records.slice(i, i + OUTBOX_ROWS_PER_STATEMENT)).execute();
  }
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
 */
export function createOutboxPort(db: MssqlDb, outbox: OutboxTable): OutboxPort {
  return {
    async claim(limit, leaseMs) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`claim: limit must be a positive integer, got ${limit}`);
      const lease = Math.min(MAX_LEASE_MS, Math.max(0, Math.ceil(leaseMs)));
      const rows = await db.transaction(
        async (tx) => {
          const status = await claimLockStatement(tx, outbox, CLAIM_LOCK_TIMEOUT_MS).execute();
          if (status < 0)
            throw new Error(`outbox claim: claim lock not granted (sp_getapplock status ${status})`);
          return claimOutboxStatement(tx, outbox, limit, lease).execute();
        },
        { isolationLevel: 'read committed' },
      );
      // OUTPUT returns rows in no particular order.
      return rows.map(toOutboxRecord).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async markPublished(ids) {
      for (const chunk of chunks(ids)) await markPublishedStatement(db, outbox, chunk);
    },
    async release(ids) {
      for (const chunk of chunks(ids)) await releaseStatement(db, outbox, chunk);
    },
    async pendingCount() {
      const [row] = await pendingCountStatement(db, outbox);
      return row?.n ?? 0;
    },
  };
}

function chunks(ids: readonly bigint[]): bigint[][] {
  const out: bigint[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) out.push(ids.slice(i, i + IDS_PER_STATEMENT));
  return out;
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
