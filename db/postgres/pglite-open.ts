/**
 * Opening PGlite (the PostgreSQL dialect in process): loaded by `openPostgres` with `import()` only when no
 * server URL is given, so that a process on a PostgreSQL server never parses PGlite's code.
 * @module
 */
import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { type OpenPostgresOptions, type PostgresDatabase, withOnceClose } from './connect.ts';
import { startPgliteAutovacuum } from './pglite-autovacuum.ts';
import { preparingClient } from './pglite-client.ts';
import { createPglite } from './pglite-initdb.ts';

/** PGlite in memory or under `options.dataDir` (created when missing), with its autovacuum substitute. */
export async function openPglite(options: OpenPostgresOptions): Promise<PostgresDatabase> {
  if (options.dataDir !== undefined && options.memory !== true)
    mkdirSync(options.dataDir, { recursive: true });
  const { client } = await createPglite(
    options.memory === true || options.dataDir === undefined ? {} : { dataDir: options.dataDir },
  );
  const database = fromPglite(client);
  // PGlite has no autovacuum (single-user mode): without statistics the planner mis-plans as tables grow.
  const autovacuum = startPgliteAutovacuum(database.db, {
    ...(options.onPgliteMaintenance === undefined ? {} : { onRun: options.onPgliteMaintenance }),
  });
  return withOnceClose(database.db, 'pglite', async () => {
    await autovacuum.stop();
    await database.close();
  });
}

/**
 * Wraps an already created PGlite instance (e.g. one loaded from a template dump). Statements go through
 * {@link preparingClient}: repeated statements run as prepared statements in one call into PGlite.
 */
export function fromPglite(client: PGlite): PostgresDatabase {
  const db = drizzlePglite({ client: preparingClient(client) as unknown as PGlite });
  return withOnceClose(db, 'pglite', () => client.close());
}
