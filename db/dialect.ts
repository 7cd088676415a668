/**
 * What each SQL dialect offers `openStores`. A dialect's module is imported only when a service is
 * configured for it, so a PostgreSQL process never loads the SQL Server driver and the reverse.
 * @module
 */
import type { DatabaseTarget } from '../runtime/config.ts';
import type { TransactionalStore } from '../runtime/store.ts';
import type { ConnectLogger, ConnectRetryOptions } from './mssql/connect.ts';
import type { PgliteAutovacuumOptions } from './postgres/pglite-autovacuum.ts';

export interface DialectOptions {
  /** Where one-line-per-failed-connect-attempt messages go (SQL Server; default `console`). */
  logger?: ConnectLogger;
  /** How long to keep trying to connect at start-up (SQL Server; default: give up after 60 s). */
  connectRetry?: ConnectRetryOptions;
  /** PGlite: each ANALYZE / VACUUM its autovacuum substitute runs (table, command, ms), or its error. */
  onPgliteMaintenance?: PgliteAutovacuumOptions['onRun'];
}

export interface DialectDriver<T extends DatabaseTarget> {
  /**
   * Opens (or reuses) the connection for `target` and builds the service's store on it; `migrate: true` applies
   * pending migrations, `false` only checks that none is pending (`SchemaBehindError`, db/schema-version.ts).
   */
  openStore(service: string, target: T, options: { migrate: boolean }): Promise<TransactionalStore<unknown>>;
  /** Closes every connection this driver opened, once. */
  close(): Promise<void>;
}
