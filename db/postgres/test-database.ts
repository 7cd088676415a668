/**
 * Test support: a migrated PGlite database with both service stores, one per test file (PGlite's initdb
 * takes 2–5 s). The first call on a machine migrates a fresh instance and saves its data directory as a
 * gzip dump in `os.tmpdir()`, keyed by a hash of the migrations and the PGlite version; later calls load
 * that dump (~1 s) instead of running initdb and the migrations again.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { OrdersRepo } from '../orders/repo.ts';
import { ordersTables } from '../orders/schema.pg.ts';
import { createOrdersStore } from '../orders/store.pg.ts';
import type { PaymentsRepo } from '../payments/repo.ts';
import { paymentsTables } from '../payments/schema.pg.ts';
import { createPaymentsStore } from '../payments/store.pg.ts';
import type { PgDatabase } from './connect.ts';
import { migrate, migrationsFolder } from './migrate.ts';
import { createPglite, pgliteVersion, saveDump } from './pglite-initdb.ts';
import { fromPglite } from './pglite-open.ts';
import type { PostgresStore } from './store-base.ts';

const TEMPLATE_PREFIX = 'orderflow-pglite-';

/** Services whose schemas a test database contains. */
export const SERVICES = ['orders', 'payments'] as const;

export interface TestDatabase {
  readonly db: PgDatabase;
  readonly orders: PostgresStore<OrdersRepo>;
  readonly payments: PostgresStore<PaymentsRepo>;
  /** Empties every table of every service and restarts identities (call in `beforeEach`). */
  reset(): Promise<void>;
  close(): Promise<void>;
  /** How the database was made and how long it took, for reporting. */
  readonly source: { kind: 'template' | 'fresh'; ms: number };
}

/**
 * Opens a migrated in-memory PGlite with the orders and payments stores.
 * @example
 * let t: TestDatabase;
 * beforeAll(async () => { t = await createTestDatabase(); });
 * beforeEach(() => t.reset());
 * afterAll(() => t.close());
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const started = performance.now();
  const templatePath = join(tmpdir(), `${TEMPLATE_PREFIX}${templateKey()}.tar.gz`);
  let client: PGlite;
  let kind: 'template' | 'fresh' = 'template';
  try {
    client = await PGlite.create({ loadDataDir: new Blob([readFileSync(templatePath)]) });
  } catch {
    kind = 'fresh';
    client = (await createPglite()).client;
  }
  const { db, close } = fromPglite(client);
  const orders = createOrdersStore(db);
  const payments = createPaymentsStore(db);
  // Also after loading a template: a no-op then (~50 ms), and it proves the template matches the migrations.
  await migrate(orders);
  await migrate(payments);
  if (kind === 'fresh') await saveDump(client, templatePath, TEMPLATE_PREFIX);
  return {
    db,
    orders,
    payments,
    reset: () => truncateServiceTables(db),
    close,
    source: { kind, ms: Math.round(performance.now() - started) },
  };
}

/** Empties every table of every service (`TRUNCATE … RESTART IDENTITY CASCADE`), on PGlite or a server. */
export async function truncateServiceTables(db: PgDatabase): Promise<void> {
  const tables = sql.join(
    [...ordersTables, ...paymentsTables].map((table) => sql`${table}`),
    sql`, `,
  );
  await db.execute(sql`truncate ${tables} restart identity cascade`);
}

/** Hash of every migration file of every service, plus the PGlite version: a new migration makes a new template. */
function templateKey(): string {
  const hash = createHash('sha256').update(pgliteVersion() ?? 'unknown');
  for (const service of SERVICES) {
    const folder = migrationsFolder(service);
    for (const entry of readdirSync(folder).sort()) {
      const file = join(folder, entry, 'migration.sql');
      if (existsSync(file)) hash.update(entry).update(readFileSync(file));
    }
  }
  return hash.digest('hex').slice(0, 16);
}
