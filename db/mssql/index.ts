/**
 * The SQL Server dialect of the service stores (drizzle `node-mssql` over our own `mssql.ConnectionPool`).
 * @example
 * import { createOrdersStore, migrate, openMssql } from './db/mssql/index.ts';
 * const conn = await openMssql({ url: process.env.DATABASE_URL! });
 * const orders = createOrdersStore(conn, { close: conn.close });
 * await migrate(orders);
 * @module
 */
export { createOrdersStore, ordersRepo } from '../orders/store.mssql.ts';
export { createPaymentsStore, paymentsRepo } from '../payments/store.mssql.ts';
export {
  type ConnectLogger,
  type ConnectRetryOptions,
  connectWithRetry,
  fromPool,
  MssqlConnectError,
  type MssqlDatabase,
  type MssqlDb,
  type OpenMssqlOptions,
  openMssql,
} from './connect.ts';
export { MIGRATIONS_SCHEMA, type MigrateOptions, migrate, migrationsFolder } from './migrate.ts';
export { createMssqlStore, type MssqlStore, type MssqlStoreOptions } from './store-base.ts';
export {
  describeTarget,
  isMssqlUrl,
  type MssqlUrl,
  MssqlUrlError,
  parseMssqlUrl,
  toPoolConfig,
} from './url.ts';
