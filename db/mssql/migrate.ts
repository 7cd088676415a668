/**
 * Applies a service's drizzle-kit migrations (`db/migrations/mssql/<service>`) at start-up with drizzle's own
 * SQL Server migrator (`drizzle-orm/node-mssql/migrator`).
 *
 * Each service records its history in its own table, `[drizzle].[__drizzle_migrations_<service>]` (the same
 * names as `db/drizzle/<service>.mssql.config.ts`), so several services can share one database.
 *
 * Replicas starting together: the migrator creates its schema and table outside a transaction and then
 * applies pending migrations in one transaction (SQL Server DDL is transactional, so a failed migration
 * leaves nothing half-applied). To make the whole run exclusive, it runs on a dedicated one-connection pool
 * holding a session-level application lock (`sp_getapplock`), the SQL Server counterpart of PostgreSQL's
 * advisory lock: a second migrator waits, then finds nothing left to do.
 * @module
 */
import { sql } from 'drizzle-orm';
import type { MigrationConfig } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/node-mssql';
import { migrate as applyMigrations } from 'drizzle-orm/node-mssql/migrator';
import mssql from 'mssql';
import { dialectMigrationsFolder, migrationNames } from '../migrations-root.ts';
import { requireMigrated } from '../schema-version.ts';
import type { MssqlDatabase, MssqlDb } from './connect.ts';
import { appLockStatement, rawStatement, type Statement } from './statement.ts';

/** Schema holding every service's migrations table. */
export const MIGRATIONS_SCHEMA = 'drizzle';

/** `sp_getapplock` resource serialising migration runs of all services. */
export const MIGRATION_LOCK = 'orderflow:migrations';

/** A service's SQL Server migrations: `db/migrations/mssql/<service>` (`dist/migrations/…` in a bundle). */
export function migrationsFolder(service: string): string {
  return dialectMigrationsFolder('mssql', service);
}

/** The migrator settings of a service: its folder and its own history table. */
export function migrationConfig(service: string, folder = migrationsFolder(service)): MigrationConfig {
  return {
    migrationsFolder: folder,
    migrationsSchema: MIGRATIONS_SCHEMA,
    migrationsTable: `__drizzle_migrations_${service}`,
  };
}

export interface MigrateOptions {
  /** Override the migrations folder (e.g. in a bundled deployment). */
  migrationsFolder?: string;
  /** How long to wait for another migrator to finish (default 120 000 ms). */
  lockTimeoutMs?: number;
  /** Builds the one-connection pool (default `new mssql.ConnectionPool(config)`); tests pass a recorder. */
  createPool?: (config: mssql.config) => mssql.ConnectionPool;
}

/**
 * Brings a service's schema up to date. Idempotent; safe to run from several processes at once.
 * @example
 * const store = createOrdersStore(conn);
 * await migrate(store);
 */
export async function migrate(
  target: { readonly service: string; readonly connection: Pick<MssqlDatabase, 'config' | 'target'> },
  options: MigrateOptions = {},
): Promise<void> {
  const config = migrationConfig(target.service, options.migrationsFolder);
  const lockTimeoutMs = options.lockTimeoutMs ?? 120_000;
  // One connection, kept for the whole run: the session lock and every migration statement share it. The
  // request timeout must outlast the wait for the lock (and leave a DDL statement time to finish).
  const pool = (options.createPool ?? ((config) => new mssql.ConnectionPool(config)))({
    ...target.connection.config,
    requestTimeout: Math.max(target.connection.config.requestTimeout ?? 15_000, lockTimeoutMs + 60_000),
    pool: { min: 1, max: 1, idleTimeoutMillis: 600_000 },
  });
  pool.on('error', () => {});
  await pool.connect();
  try {
    const db = drizzle({ client: pool });
    const status = await acquireMigrationLockStatement(db, lockTimeoutMs).execute();
    if (status < 0)
      throw new Error(
        `${target.service}: could not take the migration lock on ${target.connection.target} (sp_getapplock returned ${status})`,
      );
    await applyMigrations(db, config);
  } finally {
    // Closing the connection also releases the session lock; release explicitly in case the pool keeps it.
    await releaseMigrationLockStatement(drizzle({ client: pool }))
      .execute()
      .catch(() => {});
    await pool.close().catch(() => {});
  }
}

/** Takes the session-level migration lock, waiting up to `timeoutMs`; resolves to `sp_getapplock`'s status. */
export function acquireMigrationLockStatement(db: MssqlDb, timeoutMs: number): Statement<number> {
  return appLockStatement(db, MIGRATION_LOCK, 'Session', timeoutMs);
}

/** Releases the session-level migration lock. */
export function releaseMigrationLockStatement(db: MssqlDb): Statement<unknown> {
  return rawStatement(
    db,
    sql`exec sp_releaseapplock @Resource = ${MIGRATION_LOCK}, @LockOwner = 'Session'`,
    () => undefined,
  );
}

/**
 * What `serve` does instead of {@link migrate}: one query for the names of the applied migrations (none when
 * the history table does not exist yet), an error (`SchemaBehindError`) when one of this build's is missing.
 * @example await checkMigrated(createOrdersStore(conn));
 */
export async function checkMigrated(target: {
  readonly service: string;
  readonly db: MssqlDb;
}): Promise<void> {
  const table = `[${MIGRATIONS_SCHEMA}].[__drizzle_migrations_${target.service}]`;
  const applied = await appliedMigrationsStatement(target.db, table).execute();
  requireMigrated(target.service, migrationNames('mssql', target.service), applied);
}

/** The names recorded in a migrations table; `OBJECT_ID` is null (nothing selected) before the first run. */
export function appliedMigrationsStatement(db: MssqlDb, table: string): Statement<string[]> {
  return rawStatement(
    db,
    sql`if object_id(${table}, 'U') is not null exec(${`select name from ${table}`})`,
    (result) => (result.recordset ?? []).flatMap((row) => (typeof row.name === 'string' ? [row.name] : [])),
  );
}
