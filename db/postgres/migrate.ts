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
import { dialectMigrationsFolder, migrationNames } from '../migrations-root.ts';
import { requireMigrated } from '../schema-version.ts';
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

/**
 * What `serve` does instead of {@link migrate}: one query for the names of the applied migrations, an error
 * (`SchemaBehindError`, naming the `migrate` job) when one of this build's is missing. Applies no DDL.
 * @example await checkMigrated(createOrdersStore(db));
 */
export async function checkMigrated(target: {
  readonly service: string;
  readonly db: PgDatabase;
}): Promise<void> {
  const { migrationsSchema, migrationsTable } = migrationConfig(target.service);
  const applied = await target.db
    .execute(sql`select name from ${sql.identifier(migrationsSchema!)}.${sql.identifier(migrationsTable!)}`)
    .then(
      (result) => (result as unknown as { rows: { name: string | null }[] }).rows,
      (error: unknown) => {
        // Never migrated: no history schema or table yet, so every migration is pending.
        if (hasCode(error, ['3F000', '42P01'])) return [];
        throw error;
      },
    );
  requireMigrated(
    target.service,
    migrationNames('postgres', target.service),
    applied.flatMap((row) => (row.name === null ? [] : [row.name])),
  );
}

/** True when the error or one of its causes (drizzle wraps the driver's) has one of these SQLSTATEs. */
function hasCode(error: unknown, codes: readonly string[]): boolean {
  for (let link = error, depth = 0; link instanceof Object && depth < 8; depth += 1) {
    const { code, cause } = link as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && codes.includes(code)) return true;
    link = cause;
  }
  return false;
}
