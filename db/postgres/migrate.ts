/**
 * Applies a service's drizzle-kit migrations (`db/migrations/postgres/<service>`) at start-up.
 *
 * Each service records its history in its own table, `drizzle.__drizzle_migrations_<service>`, so several
 * services can share one database. (Not in the service's own schema: the first migration creates that schema.)
 * The whole run is one transaction holding an advisory lock, so replicas starting together apply each
 * migration once, and a failed migration leaves nothing half-applied (PostgreSQL DDL is transactional).
 * @module
 */
import { sql } from 'drizzle-orm';
import { type MigrationConfig, readMigrationFiles } from 'drizzle-orm/migrator';
import { migrate as applyMigrations } from 'drizzle-orm/pg-core/async/session';
import { dialectMigrationsFolder } from '../migrations-root.ts';
import type { PgDatabase } from './connect.ts';

/** Schema holding every service's migrations table. */
export const MIGRATIONS_SCHEMA = 'drizzle';

/** Arbitrary constant key for `pg_advisory_xact_lock`: serialises migration runs across all services. */
const MIGRATION_LOCK_KEY = 7_240_311_001;

/** A service's PostgreSQL migrations: `db/migrations/postgres/<service>` (`dist/migrations/…` in a bundle). */
export function migrationsFolder(service: string): string {
  return dialectMigrationsFolder('postgres', service);
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
}

/**
 * Brings a service's schema up to date. Idempotent; safe to run from several processes at once.
 * @example
 * const store = createOrdersStore(db);
 * await migrate(store);
 */
export async function migrate(
  target: { readonly service: string; readonly db: PgDatabase },
  options: MigrateOptions = {},
): Promise<void> {
  const config = migrationConfig(target.service, options.migrationsFolder);
  const migrations = readMigrationFiles(config);
  await target.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await applyMigrations(migrations, tx, config);
  });
}
