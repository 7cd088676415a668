/**
 * Opens the stores of the given services where configuration says they live, and migrates them.
 * The one place that picks a dialect: PGlite (no URL), a PostgreSQL server (`postgres://`), or SQL Server
 * (`mssql://`, `sqlserver://`; URL forms in `db/mssql/url.ts`).
 * @module
 */
import type { DatabaseTarget } from '../runtime/config.ts';
import type { TransactionalStore } from '../runtime/store.ts';
import {
  type ConnectLogger,
  type ConnectRetryOptions,
  type MssqlDatabase,
  openMssql,
} from './mssql/connect.ts';
import { migrate as migrateMssql } from './mssql/migrate.ts';
import type { MssqlStore } from './mssql/store-base.ts';
import { createOrdersStore as createOrdersMssqlStore } from './orders/store.mssql.ts';
import { createOrdersStore } from './orders/store.pg.ts';
import { createPaymentsStore as createPaymentsMssqlStore } from './payments/store.mssql.ts';
import { createPaymentsStore } from './payments/store.pg.ts';
import { openPostgres, type PostgresDatabase } from './postgres/connect.ts';
import { migrate } from './postgres/migrate.ts';
import type { PostgresStore } from './postgres/store-base.ts';

const POSTGRES_STORES: Record<string, (db: PostgresDatabase['db']) => PostgresStore<unknown>> = {
  orders: createOrdersStore,
  payments: createPaymentsStore,
};

const MSSQL_STORES: Record<string, (connection: MssqlDatabase) => MssqlStore<unknown>> = {
  orders: createOrdersMssqlStore,
  payments: createPaymentsMssqlStore,
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
  /** SQL Server: where the one-line-per-failed-connect-attempt messages go (default `console`). */
  logger?: ConnectLogger;
  /** SQL Server: how long to keep trying to connect at start-up (default: give up after 60 s). */
  connectRetry?: ConnectRetryOptions;
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
  const mssqlConnections = new Map<string, Promise<MssqlDatabase>>();
  const close = async () => {
    const opened = await Promise.allSettled([...connections.values(), ...mssqlConnections.values()]);
    await Promise.all(opened.flatMap((c) => (c.status === 'fulfilled' ? [c.value.close()] : [])));
  };
  try {
    const stores: Record<string, TransactionalStore<unknown>> = {};
    for (const service of services) {
      const create = POSTGRES_STORES[service];
      if (create === undefined) throw new Error(`no store is defined for service "${service}"`);
      const target = targetOf(service);
      if (target.dialect === 'mssql') {
        const createMssql = MSSQL_STORES[service];
        if (createMssql === undefined)
          throw new Error(`no SQL Server store is defined for service "${service}"`);
        let connection = mssqlConnections.get(target.url);
        if (connection === undefined) {
          connection = openMssql({
            url: target.url,
            ...(options.logger !== undefined ? { logger: options.logger } : {}),
            ...(options.connectRetry !== undefined ? { retry: options.connectRetry } : {}),
          }).catch((error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            throw new Error(`${service}: SQL Server ${redact(target.url)}: ${reason}`, { cause: error });
          });
          mssqlConnections.set(target.url, connection);
        }
        const store = createMssql(await connection);
        if (options.migrate ?? true) await migrateMssql(store);
        stores[service] = store;
        continue;
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
