/**
 * The consumers' durable attempt counts over SQL Server (see `AttemptsPort` in runtime/store.ts). `record` is one
 * `MERGE … WITH (HOLDLOCK) … OUTPUT`, autocommit: `HOLDLOCK` makes the MERGE's probe a key-range lock, so two
 * concurrent first attempts of one event do not both insert (the usual MERGE-upsert race, error 2627).
 * @module
 */
import { and, eq, sql } from 'drizzle-orm';
import type { MsSqlColumn } from 'drizzle-orm/mssql-core';
import type { AttemptRecord, AttemptsPort } from '../../runtime/store.ts';
import type { MssqlDb } from './connect.ts';
import type { AttemptsTable, InboxTable } from './messaging-schema.ts';
import { col, rawStatement, rowsOf, type Statement } from './statement.ts';

/** Ids per `record` statement: 3 parameters each, under SQL Server's 2 100-parameter limit. */
export const ATTEMPT_IDS_PER_STATEMENT = 500;

/**
 * ```sql
 * merge [s].[consumer_attempts] with (holdlock) as [t]
 * using (values (@consumer, @id1), …) as [s] ([consumer], [event_id]) on [t].consumer = [s].consumer and [t].event_id = [s].event_id
 * when matched then update set attempts = case when attempts + @delta < 0 then 0 else attempts + @delta end,
 *                              last_error = coalesce(@error, last_error), last_attempt_at = sysutcdatetime()
 * when not matched then insert (consumer, event_id, attempts, last_error) values (…, max(0, @delta), @error)
 * output inserted.*;
 * ```
 */
export function recordAttemptsStatement(
  db: MssqlDb,
  attempts: AttemptsTable,
  consumer: string,
  eventIds: readonly string[],
  change: { delta: number; error?: string },
): Statement<AttemptsTable['$inferSelect'][]> {
  if (eventIds.length === 0 || eventIds.length > ATTEMPT_IDS_PER_STATEMENT)
    throw new RangeError(
      `recordAttemptsStatement: 1 to ${ATTEMPT_IDS_PER_STATEMENT} ids, got ${eventIds.length}`,
    );
  const delta = Math.trunc(change.delta);
  const error = change.error ?? null;
  const source = sql.join(
    eventIds.map((id) => sql`(${consumer}, cast(${id} as uniqueidentifier))`),
    sql`, `,
  );
  const t = (column: MsSqlColumn) => sql`[t].${col(column)}`;
  return rawStatement(
    db,
    sql`merge ${attempts} with (holdlock) as [t] using (values ${source}) as [s] ([consumer], [event_id]) on ${t(attempts.consumer)} = [s].[consumer] and ${t(attempts.eventId)} = [s].[event_id] when matched then update set ${col(attempts.attempts)} = case when ${t(attempts.attempts)} + ${delta} < 0 then 0 else ${t(attempts.attempts)} + ${delta} end, ${col(attempts.lastError)} = coalesce(${error}, ${t(attempts.lastError)}), ${col(attempts.lastAttemptAt)} = sysutcdatetime() when not matched then insert (${col(attempts.consumer)}, ${col(attempts.eventId)}, ${col(attempts.attempts)}, ${col(attempts.lastError)}) values ([s].[consumer], [s].[event_id], ${Math.max(0, delta)}, ${error}) output inserted.*;`,
    rowsOf(attempts),
  );
}

/** Whether the inbox holds `(consumer, eventId)`. */
export function handledStatement(db: MssqlDb, inbox: InboxTable, consumer: string, eventId: string) {
  return db
    .select({ consumer: inbox.consumer })
    .top(1)
    .from(inbox)
    .where(and(eq(inbox.consumer, consumer), eq(inbox.eventId, eventId)));
}

/** The port, chunking long id lists. */
export function createAttemptsPort(db: MssqlDb, attempts: AttemptsTable, inbox: InboxTable): AttemptsPort {
  return {
    async record(consumer, eventIds, change) {
      const unique = [...new Set(eventIds)];
      const out = new Map<string, AttemptRecord>();
      for (let i = 0; i < unique.length; i += ATTEMPT_IDS_PER_STATEMENT) {
        const rows = await recordAttemptsStatement(
          db,
          attempts,
          consumer,
          unique.slice(i, i + ATTEMPT_IDS_PER_STATEMENT),
          change,
        ).execute();
        for (const row of rows) out.set(row.eventId, { attempts: row.attempts, lastError: row.lastError });
      }
      return out;
    },
    async handled(consumer, eventId) {
      return (await handledStatement(db, inbox, consumer, eventId)).length > 0;
    },
  };
}
