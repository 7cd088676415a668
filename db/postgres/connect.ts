/**
 * Opening a PostgreSQL-dialect database: PGlite in process (in memory or in a data directory) or a
 * PostgreSQL server through a `pg` pool. Both give the same drizzle API, so stores take either.
 * @module
 */
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgAsyncDatabase } from 'drizzle-orm/pg-core/async/db';
import type { PgQueryResultHKT } from 'drizzle-orm/pg-core/session';
import pg from 'pg';
import { redactText, redactUrl } from '../../runtime/redact.ts';
import { NamedStatementClient, preparedStatementsOption } from './named-statements.ts';
import type { PgliteAutovacuumOptions } from './pglite-autovacuum.ts';

/** A drizzle PostgreSQL database or transaction, whatever the driver. Query functions take this first. */
export type PgDatabase = PgAsyncDatabase<PgQueryResultHKT>;

/** An open database and how to close it. */
export interface PostgresDatabase {
  readonly db: PgDatabase;
  readonly driver: 'pglite' | 'node-postgres';
  /** Ends the pool / closes PGlite. Safe to call more than once. */
  close(): Promise<void>;
}

export interface OpenPostgresOptions {
  /**
   * `postgres://` or `postgresql://` URL of a server. Absent: PGlite. `prepare=false` among its parameters
   * runs every statement unnamed (for a pooler that cannot carry prepared statements: ./named-statements.ts).
   */
  url?: string;
  /** PGlite data directory (created when missing). Ignored with `url`. */
  dataDir?: string;
  /** PGlite in memory; the default when neither `url` nor `dataDir` is given. */
  memory?: boolean;
  /** Largest number of pooled server connections (default 10). */
  maxConnections?: number;
  /** Longest wait for a connection (new, or free in the pool) before the query fails. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * Called when an idle pooled connection fails (server restart, network). The pool drops that connection;
   * the next query opens a new one or fails with the cause. Default: ignore.
   */
  onPoolError?: (error: Error) => void;
  /** PGlite: each ANALYZE / VACUUM the built-in autovacuum substitute runs, or its error. Default: ignore. */
  onPgliteMaintenance?: PgliteAutovacuumOptions['onRun'];
}

/** True for URLs this module can open with the `pg` driver. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens a database: a `pg` pool for a `postgres://` URL, otherwise PGlite in memory or under `dataDir`.
 * Resolves once PGlite is initialised: ~1 s to reopen a data directory or to start a new database from the cached
 * initdb dump (`createPglite`), 4–5 s when initdb has to run (the first time per PGlite version). A PGlite database
 * gets `startPgliteAutovacuum` (PGlite has no autovacuum of its own), stopped by `close()`. PGlite's code
 * (`./pglite-open.ts`) is imported only on that path, so a process on a server never loads it.
 * @example
 * const { db, close } = await openPostgres({ url: process.env.DATABASE_URL });
 */
export async function openPostgres(options: OpenPostgresOptions = {}): Promise<PostgresDatabase> {
  if (options.url !== undefined) {
    if (!isPostgresUrl(options.url))
      throw new TypeError('openPostgres: url must start with postgres:// or postgresql://');
    checkPostgresUrl(options.url);
    // Repeated statements are prepared once per connection (./named-statements.ts); `?prepare=false` opts out.
    const { url, prepare } = preparedStatementsOption(options.url);
    const pool = new pg.Pool({
      connectionString: url,
      ...(prepare ? { Client: NamedStatementClient } : {}),
      max: options.maxConnections ?? 10,
      // Bounded waits, so an outage or an exhausted pool is an error the runtime can classify (and pause or
      // answer 503 for) instead of a request that hangs: a new connection or a free pooled one within 5 s.
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      keepAlive: true,
    });
    pool.on('error', options.onPoolError ?? (() => {}));
    const db = drizzleNodePg({ client: pool });
    return withOnceClose(db, 'node-postgres', () => pool.end());
  }
  const { openPglite } = await import('./pglite-open.ts');
  return openPglite(options);
}

/** The URL is not one `pg` can read; the message names the URL without its password. */
export class PostgresUrlError extends TypeError {
  override name = 'PostgresUrlError';
}

/**
 * Fails now, with the URL (password masked) and why, where `pg` would fail at the first query with only
 * "Invalid URL". A `pg.Client` parses its connection string when constructed (pg-connection-string, which
 * also masks the URL in the errors it throws) and opens no socket until `connect()`.
 */
function checkPostgresUrl(url: string): void {
  try {
    new pg.Client({ connectionString: url });
  } catch (error) {
    const reason = redactText(error instanceof Error ? error.message : String(error), { urls: [url] });
    throw new PostgresUrlError(`PostgreSQL URL ${redactUrl(url)} is not valid: ${reason}`, { cause: error });
  }
}

/** The database with a `close()` that ends it once, however often it is called. */
export function withOnceClose(
  db: PgDatabase,
  driver: PostgresDatabase['driver'],
  end: () => Promise<void>,
): PostgresDatabase {
  let closing: Promise<void> | undefined;
  return {
    db,
    driver,
    close: () => {
      closing ??= end();
      return closing;
    },
  };
}
