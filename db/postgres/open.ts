/**
 * The PostgreSQL dialect as `openStores` uses it: PGlite or a PostgreSQL server, one connection per
 * distinct target shared by the services on it, migrations applied on open (or only checked: `checkMigrated`).
 * @module
 */
import type { DatabaseTarget } from '../../runtime/config.ts';
import type { DialectDriver, DialectOptions } from '../dialect.ts';
import { createOrdersStore } from '../orders/store.pg.ts';
import { createPaymentsStore } from '../payments/store.pg.ts';
import { openPostgres, type PostgresDatabase } from './connect.ts';
import { checkMigrated, migrate } from './migrate.ts';
import type { PostgresStore } from './store-base.ts';

const STORES: Record<string, (db: PostgresDatabase['db']) => PostgresStore<unknown>> = {
  orders: createOrdersStore,
  payments: createPaymentsStore,
};

type PostgresTarget = Extract<DatabaseTarget, { dialect: 'pglite' | 'postgres' }>;

export function createDialectDriver(options: DialectOptions = {}): DialectDriver<PostgresTarget> {
  const maintenance =
    options.onPgliteMaintenance === undefined ? {} : { onPgliteMaintenance: options.onPgliteMaintenance };
  const connections = new Map<string, Promise<PostgresDatabase>>();
  return {
    async openStore(service, target, { migrate: apply }) {
      const create = STORES[service];
      if (create === undefined) throw new Error(`no PostgreSQL store is defined for service "${service}"`);
      const identity = target.dialect === 'postgres' ? target.url : `pglite:${target.dataDir ?? 'memory'}`;
      let connection = connections.get(identity);
      if (connection === undefined) {
        connection = openPostgres(
          target.dialect === 'postgres'
            ? { url: target.url }
            : target.dataDir === undefined
              ? { memory: true, ...maintenance }
              : { dataDir: target.dataDir, ...maintenance },
        );
        connections.set(identity, connection);
      }
      const store = create((await connection).db);
      // PGlite in memory starts empty, so no job can have migrated it: it always migrates.
      if (apply || (target.dialect === 'pglite' && target.dataDir === undefined)) await migrate(store);
      else await checkMigrated(store);
      return store;
    },
    async close() {
      const opened = await Promise.allSettled(connections.values());
      await Promise.all(opened.flatMap((c) => (c.status === 'fulfilled' ? [c.value.close()] : [])));
    },
  };
}
