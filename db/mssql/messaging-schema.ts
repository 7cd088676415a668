/**
 * The outbox and inbox tables every service has, built per SQL Server schema (`[orders].[outbox]`,
 * `[payments].[outbox]`, …) so the store code that uses them is written once. Same columns and meaning as
 * `db/postgres/messaging-schema.ts`.
 * @module
 */
import { sql } from 'drizzle-orm';
import { bigint, index, int, type MsSqlSchema, nvarchar, primaryKey, varchar } from 'drizzle-orm/mssql-core';
import { binaryText, createdAt, uniqueidentifier, utcDatetime } from './columns.ts';

/**
 * Transactional outbox: rows written with the state change, published by the relay in `id` order.
 * `lease_until` lets several relays share the table: a row is claimable when unpublished and not leased
 * (or its lease expired). The filtered index keeps the relay's scan proportional to unpublished rows only.
 */
export function outboxTable(schema: MsSqlSchema) {
  return schema.table(
    'outbox',
    {
      id: bigint('id', { mode: 'bigint' }).primaryKey().identity(),
      eventId: uniqueidentifier('event_id').notNull().unique('outbox_event_id_key'),
      topic: varchar('topic', { length: 255 }).notNull(),
      key: nvarchar('key', { length: 255 }).notNull(),
      value: nvarchar('value', { length: 'max' }).notNull(),
      headers: nvarchar('headers', { length: 'max', mode: 'json' })
        .$type<Record<string, string>>()
        .notNull()
        .default(sql`'{}'`),
      createdAt: createdAt(),
      publishedAt: utcDatetime('published_at'),
      leaseUntil: utcDatetime('lease_until'),
      /** Claims so far (a crashed relay's claim counts too). */
      attempts: int('attempts').notNull().default(0),
      /** Failed publishes of this row; the relay parks it after too many. */
      failures: int('failures').notNull().default(0),
      lastError: nvarchar('last_error', { length: 'max' }),
      /** Set when the relay gave up on the row: no longer claimed until an operator republishes it. */
      parkedAt: utcDatetime('parked_at'),
      /** The relay instance holding the lease: only it may release the lease early. */
      leaseOwner: varchar('lease_owner', { length: 64 }),
    },
    (t) => [
      index('outbox_unpublished_idx').on(t.id).where(sql`${t.publishedAt} is null`),
      // Claiming skips a row while an earlier row of its key is leased elsewhere (per-key order).
      index('outbox_unpublished_key_idx').on(t.key, t.id).where(sql`${t.publishedAt} is null`),
      // Pruning deletes published rows past the retention window, oldest `published_at` first.
      index('outbox_published_at_idx').on(t.publishedAt).where(sql`${t.publishedAt} is not null`),
      // Operators list and count parked rows.
      index('outbox_parked_idx').on(t.id).where(sql`${t.parkedAt} is not null`),
    ],
  );
}

/** Inbox: one row per (consumer group, event id) handled, written in the handler's transaction. */
export function inboxTable(schema: MsSqlSchema) {
  return schema.table(
    'inbox',
    {
      consumer: binaryText('consumer', 255).notNull(),
      eventId: uniqueidentifier('event_id').notNull(),
      handledAt: createdAt('handled_at'),
    },
    (t) => [
      primaryKey({ name: 'inbox_pkey', columns: [t.consumer, t.eventId] }),
      // Pruning deletes rows past the dedupe window.
      index('inbox_handled_at_idx').on(t.handledAt),
    ],
  );
}

/**
 * Attempts of each event per consumer group, kept outside the handler's transaction so that a rollback, a
 * rebalance, a restart or a crash does not reset them (see runtime/kafka/ARCHITECTURE.md, "Attempts").
 */
export function attemptsTable(schema: MsSqlSchema) {
  return schema.table(
    'consumer_attempts',
    {
      consumer: binaryText('consumer', 255).notNull(),
      eventId: uniqueidentifier('event_id').notNull(),
      attempts: int('attempts').notNull().default(0),
      lastError: nvarchar('last_error', { length: 'max' }),
      firstAttemptAt: createdAt('first_attempt_at'),
      lastAttemptAt: createdAt('last_attempt_at'),
    },
    (t) => [
      primaryKey({ name: 'consumer_attempts_pkey', columns: [t.consumer, t.eventId] }),
      // Pruning deletes the records of events last attempted long ago.
      index('consumer_attempts_last_attempt_at_idx').on(t.lastAttemptAt),
    ],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;
export type InboxTable = ReturnType<typeof inboxTable>;
export type AttemptsTable = ReturnType<typeof attemptsTable>;

/** A service's messaging tables, as the shared outbox/inbox store code takes them. */
export interface MessagingTables {
  outbox: OutboxTable;
  inbox: InboxTable;
  attempts: AttemptsTable;
}
