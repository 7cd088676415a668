/**
 * Opens the stores of the given services where configuration says they live, and migrates them (or checks
 * that they are migrated: `serve` leaves DDL to the one-shot `migrate` job).
 * The one place that picks a dialect: PGlite (no URL), a PostgreSQL server (`postgres://`), or SQL Server
 * (`mssql://`, `sqlserver://`; URL forms in `db/mssql/url.ts`). Each dialect's module (and driver) is loaded
 * only when some service uses it.
 * @module
 */
import type { DatabaseTarget } from '../runtime/config.ts';
import type { TransactionalStore } from '../runtime/store.ts';
import type { DialectDriver, DialectOptions } from './dialect.ts';

/** The services this code base has stores for (each dialect implements all of them). */
export const STORE_SERVICES = ['orders', 'payments'] as const;

export interface OpenedStores {
  readonly stores: Record<string, TransactionalStore<unknown>>;
  /** Closes every connection once. */
  close(): Promise<void>;
}

export interface OpenStoresOptions extends DialectOptions {
  /**
   * Apply pending migrations (default true; the `migrate` job and `npm start`). False: only check that the
   * database has every migration of this build, else fail with `SchemaBehindError` (db/schema-version.ts).
   */
  migrate?: boolean;
}

type Family = 'postgres' | 'mssql';
const familyOf = (target: DatabaseTarget): Family => (target.dialect === 'mssql' ? 'mssql' : 'postgres');

async function loadDriver(family: Family, options: DialectOptions): Promise<DialectDriver<DatabaseTarget>> {
  const module = family === 'mssql' ? await import('./mssql/open.ts') : await import('./postgres/open.ts');
  return module.createDialectDriver(options) as DialectDriver<DatabaseTarget>;
}

/**
 * Opens (and by default migrates) the store of each service. Services whose targets are equal share one
 * connection pool or one PGlite instance; schemas keep them apart.
 * @example
 * const { stores, close } = await openStores(['orders'], (service) => databaseTarget(config, service));
 */
export async function openStores(
  services: readonly string[],
  targetOf: (service: string) => DatabaseTarget,
  options: OpenStoresOptions = {},
): Promise<OpenedStores> {
  const drivers = new Map<Family, Promise<DialectDriver<DatabaseTarget>>>();
  const close = async () => {
    const loaded = await Promise.allSettled(drivers.values());
    await Promise.all(loaded.flatMap((d) => (d.status === 'fulfilled' ? [d.value.close()] : [])));
  };
  try {
    const stores: Record<string, TransactionalStore<unknown>> = {};
    for (const service of services) {
      if (!(STORE_SERVICES as readonly string[]).includes(service))
        throw new Error(`no store is defined for service "${service}"`);
      const target = targetOf(service);
      const family = familyOf(target);
      let driver = drivers.get(family);
      if (driver === undefined) {
        driver = loadDriver(family, options);
        drivers.set(family, driver);
      }
      stores[service] = await (await driver).openStore(service, target, { migrate: options.migrate ?? true });
    }
    return { stores, close };
  } catch (error) {
    await close();
    throw error;
  }
}
