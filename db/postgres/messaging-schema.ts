/**
 * The outbox and inbox tables every service has, built per PostgreSQL schema so each service keeps its own
 * (`orders.outbox`, `payments.outbox`, …) while the store code that uses them is written once.
 * @module
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  type PgSchema,
  primaryKey,
  text,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.ts';

/**
 * Transactional outbox: rows written with the state change, published by the relay in `id` order.
 * `lease_until` lets several relays share the table: a row is claimable when unpublished and not leased
 * (or its lease expired). The partial index keeps the relay's scan proportional to unpublished rows only.
 */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    'outbox',
    {
      id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
      eventId: uuid('event_id').notNull().unique(),
      topic: varchar('topic', { length: 255 }).notNull(),
      key: varchar('key', { length: 255 }).notNull(),
      value: text('value').notNull(),
      headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
      createdAt: createdAt(),
      publishedAt: timestamptz('published_at'),
      leaseUntil: timestamptz('lease_until'),
      /** Claims so far (a crashed relay's claim counts too). */
      attempts: integer('attempts').notNull().default(0),
      /** Failed publishes of this row; the relay parks it after too many. */
      failures: integer('failures').notNull().default(0),
      lastError: text('last_error'),
      /** Set when the relay gave up on the row: no longer claimed until an operator republishes it. */
      parkedAt: timestamptz('parked_at'),
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
export function inboxTable(schema: PgSchema) {
  return schema.table(
    'inbox',
    {
      consumer: varchar('consumer', { length: 255 }).notNull(),
      eventId: uuid('event_id').notNull(),
      handledAt: createdAt('handled_at'),
    },
    (t) => [
      primaryKey({ columns: [t.consumer, t.eventId] }),
      // Pruning deletes rows past the dedupe window.
      index('inbox_handled_at_idx').on(t.handledAt),
    ],
  );
}

/**
 * Attempts of each event per consumer group, kept outside the handler's transaction so that a rollback, a
 * rebalance, a restart or a crash does not reset them (see runtime/kafka/ARCHITECTURE.md, "Attempts").
 */
export function attemptsTable(schema: PgSchema) {
  return schema.table(
    'consumer_attempts',
    {
      consumer: varchar('consumer', { length: 255 }).notNull(),
      eventId: uuid('event_id').notNull(),
      attempts: integer('attempts').notNull().default(0),
      lastError: text('last_error'),
      firstAttemptAt: createdAt('first_attempt_at'),
      lastAttemptAt: createdAt('last_attempt_at'),
    },
    (t) => [
      primaryKey({ columns: [t.consumer, t.eventId] }),
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
