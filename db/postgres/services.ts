/**
 * Opening one database per service, or one shared by all of them. Schemas keep the services apart
 * (`orders.*`, `payments.*`, and each service's own migrations table), so sharing is always safe.
 * @module
 */
import { join } from 'node:path';
import { openPostgres, type PostgresDatabase } from './connect.ts';

export interface ServiceDatabasesOptions<S extends string> {
  /** Server URL used by every service without an entry in `urls`. Absent (and no `urls` entry): PGlite. */
  url?: string;
  /** Per-service server URLs, e.g. `{ payments: 'postgres://…/payments' }`. Equal URLs share one pool. */
  urls?: Partial<Record<S, string>>;
  /** PGlite root directory: `<dataDir>/<service>` per service, or `<dataDir>/shared` when shared. Absent: in memory. */
  dataDir?: string;
  /**
   * PGlite only: one instance for every service (`'shared'`) or one per service (`'per-service'`).
   * Default: shared in memory (one PGlite start instead of several), per service with a `dataDir`.
   */
  pglite?: 'shared' | 'per-service';
  maxConnections?: number;
}

/** The open databases by service, and one `close()` that closes each underlying connection once. */
export interface ServiceDatabases<S extends string> {
  readonly byService: Readonly<Record<S, PostgresDatabase>>;
  close(): Promise<void>;
}

/**
 * Opens the databases of `services`, sharing a pool or a PGlite instance where the options say so.
 * @example
 * const dbs = await openServiceDatabases(['orders', 'payments'], { url: process.env.DATABASE_URL });
 * const orders = createOrdersStore(dbs.byService.orders.db);
 */
export async function openServiceDatabases<S extends string>(
  services: readonly S[],
  options: ServiceDatabasesOptions<S> = {},
): Promise<ServiceDatabases<S>> {
  const sharePglite =
    (options.pglite ?? (options.dataDir === undefined ? 'shared' : 'per-service')) === 'shared';
  const opened = new Map<string, Promise<PostgresDatabase>>();
  const open = (service: S): Promise<PostgresDatabase> => {
    const url = options.urls?.[service] ?? options.url;
    const dataDir =
      options.dataDir === undefined ? undefined : join(options.dataDir, sharePglite ? 'shared' : service);
    const identity = url !== undefined ? `url:${url}` : sharePglite ? 'pglite:shared' : `pglite:${service}`;
    let database = opened.get(identity);
    if (database === undefined) {
      database = openPostgres({
        ...(url !== undefined ? { url } : dataDir !== undefined ? { dataDir } : { memory: true }),
        ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      });
      opened.set(identity, database);
    }
    return database;
  };
  const closeAll = async () => {
    const settled = await Promise.allSettled(opened.values());
    await Promise.all(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.close()] : [])));
  };
  try {
    const entries = await Promise.all(
      services.map(async (service) => [service, await open(service)] as const),
    );
    return { byService: Object.fromEntries(entries) as Record<S, PostgresDatabase>, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
