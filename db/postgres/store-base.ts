/**
 * The generic PostgreSQL `TransactionalStore`: transactions at READ COMMITTED, outbox and inbox from the
 * shared messaging queries, and the service repository built over the database or the transaction.
 * @module
 */
import { is, sql } from 'drizzle-orm';
import { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { MaintenancePort, PruneTask, TransactionalStore } from '../../runtime/store.ts';
import { maintenanceFromTasks, messagingPruneTasks } from '../maintenance.ts';
import { outboxHandOverSlot, withHandOver } from '../outbox-hand-over.ts';
import { poolStateOf } from '../pool-state.ts';
import { isPostgresUnavailable } from '../unavailable.ts';
import type { PgDatabase } from './connect.ts';
import type { MessagingTables } from './messaging-schema.ts';
import {
  appendOutbox,
  createAttemptsPort,
  createOutboxPort,
  pruneAttempts,
  pruneInbox,
  pruneOutbox,
  recordInbox,
  recordInboxMany,
} from './messaging-store.ts';

/** A service store over PostgreSQL/PGlite. `db` is exposed for `migrate(store)` and tests. */
export interface PostgresStore<Repo> extends TransactionalStore<Repo> {
  readonly db: PgDatabase;
  /** Always there on the store bases: the messaging tables' prune tasks plus the service's `extraPrune`. */
  readonly maintenance: MaintenancePort;
  /** Closes the connection the store was given a `close` for; otherwise does nothing. */
  close(): Promise<void>;
}

export interface PostgresStoreOptions<Repo> {
  service: string;
  db: PgDatabase;
  tables: MessagingTables;
  /** Builds the repository over the database (autocommit) or a transaction. */
  createRepo: (db: PgDatabase) => Repo;
  /**
   * More prune tasks of the service, run after the messaging tables' (e.g. the orders store's expired
   * idempotency keys: `(repo) => [{ name: 'idempotency_keys', prune: ({ now, limit }) => repo.deleteExpiredIdempotencyKeys(now, limit) }]`).
   */
  extraPrune?: (repo: Repo) => readonly PruneTask[];
  close?: () => Promise<void>;
}

/**
 * Assembles a service store. Used by `createOrdersStore` / `createPaymentsStore`; a new service only adds
 * its tables and repository.
 */
export function createPostgresStore<Repo>(options: PostgresStoreOptions<Repo>): PostgresStore<Repo> {
  const { db, tables, createRepo } = options;
  // READ COMMITTED is asked for explicitly on a server (whose default_transaction_isolation may differ); PGlite
  // is one connection with PostgreSQL's default, so there it would only be one more statement per transaction.
  // Told apart by the server's driver class: naming PGlite's here would load PGlite (500 KiB) on a server too.
  const config = is(db, NodePgDatabase) ? ({ isolationLevel: 'read committed' } as const) : undefined;
  const repo = createRepo(db);
  const handOver = outboxHandOverSlot();
  return {
    service: options.service,
    db,
    repo,
    outbox: createOutboxPort(db, tables.outbox, { transactionConfig: config, handOver }),
    attempts: createAttemptsPort(db, tables.attempts, tables.inbox),
    isUnavailable: isPostgresUnavailable,
    maintenance: maintenanceFromTasks([
      ...messagingPruneTasks({
        outbox: (before, limit) => pruneOutbox(db, tables.outbox, before, limit),
        inbox: (before, limit) => pruneInbox(db, tables.inbox, before, limit),
        consumer_attempts: (before, limit) => pruneAttempts(db, tables.attempts, before, limit),
      }),
      ...(options.extraPrune?.(repo) ?? []),
    ]),
    transaction(fn) {
      return withHandOver(handOver, (relay, appended) =>
        db.transaction(
          (tx) =>
            fn({
              repo: createRepo(tx),
              async appendOutbox(records) {
                appended.push(...(await appendOutbox(tx, tables.outbox, records, relay)));
              },
              recordInbox: (consumer, eventId) => recordInbox(tx, tables.inbox, consumer, eventId),
              recordInboxMany: (consumer, eventIds) => recordInboxMany(tx, tables.inbox, consumer, eventIds),
            }),
          config,
        ),
      );
    },
    poolState: () => poolStateOf(db),
    async ping() {
      await db.execute(sql`select 1`);
    },
    close: options.close ?? (async () => {}),
  };
}

/** The row that made an `ON CONFLICT DO NOTHING` insert a no-op; missing only if it was deleted in between. */
export function mustExist<T>(row: T | undefined, what: string, key: string): T {
  if (row === undefined) throw new Error(`${what} ${key} conflicted on insert but could not be read back`);
  return row;
}
