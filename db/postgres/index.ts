/**
 * The PostgreSQL dialect of the service stores (PGlite in process, or a PostgreSQL server via `pg`).
 * @example
 * import { createOrdersStore, migrate, openPostgres } from './db/postgres/index.ts';
 * const conn = await openPostgres({ url: process.env.DATABASE_URL });
 * const orders = createOrdersStore(conn.db, { close: conn.close });
 * await migrate(orders);
 * @module
 */
export { createOrdersStore, ordersRepo } from '../orders/store.pg.ts';
export { createPaymentsStore, paymentsRepo } from '../payments/store.pg.ts';
export {
  isPostgresUrl,
  type OpenPostgresOptions,
  openPostgres,
  type PgDatabase,
  type PostgresDatabase,
} from './connect.ts';
export { MIGRATIONS_SCHEMA, type MigrateOptions, migrate, migrationsFolder } from './migrate.ts';
export { fromPglite } from './pglite-open.ts';
export {
  openServiceDatabases,
  type ServiceDatabases,
  type ServiceDatabasesOptions,
} from './services.ts';
export { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from './store-base.ts';
