/** drizzle-kit config for the payments service, SQL Server dialect. Run from the repository root. */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'mssql',
  schema: './db/payments/schema.mssql.ts',
  out: './db/migrations/mssql/payments',
  schemaFilter: ['payments'],
  // Same history table as `migrate()` in db/mssql/migrate.ts, so drizzle-kit and the app agree.
  migrations: { schema: 'drizzle', table: '__drizzle_migrations_payments' },
});
