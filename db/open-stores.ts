/**
 * Opens the stores of the given services where configuration says they live, and migrates them.
 * The one place that picks a dialect: PGlite (no URL), a PostgreSQL server (`postgres://`), and — in its
 * own issue — SQL Server (`mssql://`, `sqlserver://`).
 * @module
 */
import type { DatabaseTarget } from '../runtime/config.ts';
import type { TransactionalStore } from '../runtime/store.ts';
import { createOrdersStore } from './orders/store.pg.ts';
import { createPaymentsStore } from './payments/store.pg.ts';
import { openPostgres, type PostgresDatabase } from './postgres/connect.ts';
import { migrate } from './postgres/migrate.ts';
import type { PostgresStore } from './postgres/store-base.ts';

const POSTGRES_STORES: Record<string, (db: PostgresDatabase['db']) => PostgresStore<unknown>> = {
  orders: createOrdersStore,
  payments: createPaymentsStore,
};

/** The services this code base has stores for. */
export const STORE_SERVICES = Object.keys(POSTGRES_STORES);

export interface OpenedStores {
  readonly stores: Record<string, TransactionalStore<unknown>>;
  /** Closes every connection once. */
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  /** Apply pending migrations (default true). A one-shot `migrate` job passes true and exits. */
  migrate?: boolean;
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
  const connections = new Map<string, Promise<PostgresDatabase>>();
  const close = async () => {
    const opened = await Promise.allSettled(connections.values());
    await Promise.all(opened.flatMap((c) => (c.status === 'fulfilled' ? [c.value.close()] : [])));
  };
  try {
    const stores: Record<string, TransactionalStore<unknown>> = {};
    for (const service of services) {
      const create = POSTGRES_STORES[service];
      if (create === undefined) throw new Error(`no store is defined for service "${service}"`);
      const target = targetOf(service);
      if (target.dialect === 'mssql') {
        throw new Error(`${service}: SQL Server (${redact(target.url)}) is not supported by this build yet`);
      }
      const identity = target.dialect === 'postgres' ? target.url : `pglite:${target.dataDir ?? 'memory'}`;
      let connection = connections.get(identity);
      if (connection === undefined) {
        connection = openPostgres(
          target.dialect === 'postgres'
            ? { url: target.url }
            : target.dataDir === undefined
              ? { memory: true }
              : { dataDir: target.dataDir },
        );
        connections.set(identity, connection);
      }
      const store = create((await connection).db);
      if (options.migrate ?? true) await migrate(store);
      stores[service] = store;
    }
    return { stores, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
