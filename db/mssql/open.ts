/**
 * The SQL Server dialect as `openStores` uses it: one pool per distinct URL shared by the services on it,
 * connected with retries at start, migrations applied on open (or only checked: `checkMigrated`).
 * @module
 */
import type { DatabaseTarget } from '../../runtime/config.ts';
import { redactText, redactUrl } from '../../runtime/redact.ts';
import type { DialectDriver, DialectOptions } from '../dialect.ts';
import { createOrdersStore } from '../orders/store.mssql.ts';
import { createPaymentsStore } from '../payments/store.mssql.ts';
import { type MssqlDatabase, openMssql } from './connect.ts';
import { checkMigrated, migrate } from './migrate.ts';
import type { MssqlStore } from './store-base.ts';

const STORES: Record<string, (connection: MssqlDatabase) => MssqlStore<unknown>> = {
  orders: createOrdersStore,
  payments: createPaymentsStore,
};

type MssqlTarget = Extract<DatabaseTarget, { dialect: 'mssql' }>;

export function createDialectDriver(options: DialectOptions): DialectDriver<MssqlTarget> {
  const connections = new Map<string, Promise<MssqlDatabase>>();
  return {
    async openStore(service, target, { migrate: apply }) {
      const create = STORES[service];
      if (create === undefined) throw new Error(`no SQL Server store is defined for service "${service}"`);
      let connection = connections.get(target.url);
      if (connection === undefined) {
        connection = openMssql({
          url: target.url,
          ...(options.logger !== undefined ? { logger: options.logger } : {}),
          ...(options.connectRetry !== undefined ? { retry: options.connectRetry } : {}),
        }).catch((error: unknown) => {
          const reason = redactText(error instanceof Error ? error.message : String(error), {
            urls: [target.url],
          });
          throw new Error(`${service}: SQL Server ${redactUrl(target.url)}: ${reason}`, { cause: error });
        });
        connections.set(target.url, connection);
      }
      const store = create(await connection);
      if (apply) await migrate(store);
      else await checkMigrated(store);
      return store;
    },
    async close() {
      const opened = await Promise.allSettled(connections.values());
      await Promise.all(opened.flatMap((c) => (c.status === 'fulfilled' ? [c.value.close()] : [])));
    },
  };
}
