/** drizzle-kit config for the orders service, PostgreSQL dialect (PGlite or a server). Run from the repository root. */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/orders/schema.pg.ts',
  out: './db/migrations/postgres/orders',
  schemaFilter: ['orders'],
  // Same history table as `migrate()` in db/postgres/migrate.ts, so drizzle-kit and the app agree.
  migrations: { schema: 'drizzle', table: '__drizzle_migrations_orders' },
});
