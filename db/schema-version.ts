/**
 * The schema check `serve` does instead of migrating: migrations are the one-shot `migrate` job's
 * (`node dist/main.js migrate`), and a function process only makes sure that job ran for the build it is.
 * Each dialect reads the names in its migrations table (one query) and hands them here with the bundle's.
 * @module
 */

/** The database lacks migrations this build has: the `migrate` job has not run (or failed) for this release. */
export class SchemaBehindError extends Error {
  override name = 'SchemaBehindError';
  constructor(
    readonly service: string,
    readonly pending: readonly string[],
  ) {
    super(
      `${service}: the database is ${pending.length} migration(s) behind this build (first missing: ${pending[0]}); ` +
        'run the migrate job (`node dist/main.js migrate`) before serving, or set MIGRATE_ON_START=true',
    );
  }
}

/**
 * Throws {@link SchemaBehindError} unless every migration of the build is among those applied. Applied
 * migrations the build does not know (a newer release migrated already) are fine: migrations only add.
 * @example requireMigrated('orders', ['20261123151058_init'], await appliedNames())
 */
export function requireMigrated(service: string, local: readonly string[], applied: readonly string[]): void {
  const done = new Set(applied);
  const pending = local.filter((name) => !done.has(name));
  if (pending.length > 0) throw new SchemaBehindError(service, pending);
}
