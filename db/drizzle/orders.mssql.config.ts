/** drizzle-kit config for the orders service, SQL Server dialect. Run from the repository root. */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'mssql',
  schema: './db/orders/schema.mssql.ts',
  out: './db/migrations/mssql/orders',
  schemaFilter: ['orders'],
  // Same history table as `migrate()` in db/mssql/migrate.ts, so drizzle-kit and the app agree.
  migrations: { schema: 'drizzle', table: '__drizzle_migrations_orders' },
});
