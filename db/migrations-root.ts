/**
 * Where the drizzle-kit migrations live: `<root>/<dialect>/<service>/<timestamp>_<name>/migration.sql`.
 *
 * Resolved relative to this module, and this module sits next to the folder on purpose: from source
 * (`db/migrations-root.ts`) it finds `db/migrations/`; in a bundle, where `import.meta.url` is the bundle's
 * own URL (`dist/main.js`), it finds `dist/migrations/`, where `npm run build` copies them. So the same code
 * runs under tsx, vitest and from the bundle with no setting. Keep this file beside `db/migrations/`.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the migrations root. */
export function migrationsRoot(): string {
  return fileURLToPath(new URL('./migrations/', import.meta.url));
}

/**
 * The migrations folder of one service for one dialect.
 * @example dialectMigrationsFolder('postgres', 'orders') // …/db/migrations/postgres/orders
 */
export function dialectMigrationsFolder(dialect: 'postgres' | 'mssql', service: string): string {
  return join(migrationsRoot(), dialect, service);
}

/**
 * The names of a service's migrations in order (each folder that holds a `migration.sql`), as drizzle's
 * migrator records them in its history table. Reads one directory; no file is opened or hashed.
 * @example migrationNames('postgres', 'orders') // ['20261123151058_init', …]
 */
export function migrationNames(dialect: 'postgres' | 'mssql', service: string): string[] {
  const folder = dialectMigrationsFolder(dialect, service);
  return readdirSync(folder)
    .filter((name) => existsSync(join(folder, name, 'migration.sql')))
    .sort((a, b) => a.localeCompare(b));
}
