/**
 * The generic SQL Server `TransactionalStore`: transactions at READ COMMITTED, outbox and inbox from the
 * shared messaging code, and the service repository built over the database or the transaction.
 *
 * Isolation: READ COMMITTED, and the stores are correct whether the database has READ_COMMITTED_SNAPSHOT
 * ON or OFF (nothing assumes either). Every read that decides a write takes its lock explicitly:
 * `UPDLOCK, HOLDLOCK` in insert-or-nothing probes, `UPDLOCK, ROWLOCK` in `lockOrder`, `UPDLOCK, READPAST,
 * ROWLOCK, READCOMMITTEDLOCK` in the outbox claim (READPAST needs READCOMMITTEDLOCK when READ_COMMITTED_SNAPSHOT
 * is ON), and CAS updates lock the row they change. Those hints force locking reads
 * even when plain reads would use row versions, and a read-back after a lost insert runs after the winner
 * committed (the probe waited for it), so it sees the winner under either setting.
 *
 * One transaction holds one pooled connection and runs its statements one at a time (the mssql driver
 * refuses parallel requests in a transaction; the stores always await each statement).
 * @module
 */
import { sql } from 'drizzle-orm';
import type { MaintenancePort, PruneTask, TransactionalStore } from '../../runtime/store.ts';
import { maintenanceFromTasks, messagingPruneTasks } from '../maintenance.ts';
import { outboxHandOverSlot, withHandOver } from '../outbox-hand-over.ts';
import { poolStateOf } from '../pool-state.ts';
import { isMssqlUnavailable } from '../unavailable.ts';
import { createAttemptsPort } from './attempts-store.ts';
import type { MssqlDatabase, MssqlDb } from './connect.ts';
import type { MessagingTables } from './messaging-schema.ts';
import {
  appendOutbox,
  createOutboxPort,
  pruneAttempts,
  pruneInbox,
  pruneOutbox,
  recordInbox,
} from './messaging-store.ts';

/** A service store over SQL Server. `connection` is exposed for `migrate(store)` and tests. */
export interface MssqlStore<Repo> extends TransactionalStore<Repo> {
  readonly db: MssqlDb;
  /** Always there on the store bases: the messaging tables' prune tasks plus the service's `extraPrune`. */
  readonly maintenance: MaintenancePort;
  readonly connection: Pick<MssqlDatabase, 'config' | 'target'>;
  /** Closes the connection the store was given a `close` for; otherwise does nothing. */
  close(): Promise<void>;
}

export interface MssqlStoreOptions<Repo> {
  service: string;
  connection: Pick<MssqlDatabase, 'db' | 'config' | 'target'>;
  tables: MessagingTables;
  /** Builds the repository over the database (autocommit) or a transaction. */
  createRepo: (db: MssqlDb) => Repo;
  /** More prune tasks of the service, run after the messaging tables' (see `PostgresStoreOptions.extraPrune`). */
  extraPrune?: (repo: Repo) => readonly PruneTask[];
  close?: () => Promise<void>;
}

/** Assembles a service store; used by `createOrdersStore` / `createPaymentsStore` in `*.mssql.ts`. */
export function createMssqlStore<Repo>(options: MssqlStoreOptions<Repo>): MssqlStore<Repo> {
  const { connection, tables, createRepo } = options;
  const { db } = connection;
  const repo = createRepo(db);
  const handOver = outboxHandOverSlot();
  return {
    service: options.service,
    db,
    connection,
    repo,
    outbox: createOutboxPort(db, tables.outbox, { handOver }),
    attempts: createAttemptsPort(db, tables.attempts, tables.inbox),
    isUnavailable: isMssqlUnavailable,
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
            }),
          { isolationLevel: 'read committed' },
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

/** The row that made an insert-or-nothing a no-op; missing only if it was deleted in between. */
export function mustExist<T>(row: T | undefined, what: string, key: string): T {
  if (row === undefined) throw new Error(`${what} ${key} conflicted on insert but could not be read back`);
  return row;
}
