/**
 * Test support for a SQL Server: a uniquely named database per test run, and emptying the service tables
 * between tests. Used by `store.mssql.int.test.ts`.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { ordersTables } from '../orders/schema.mssql.ts';
import { paymentsTables } from '../payments/schema.mssql.ts';
import { type MssqlDb, openMssql } from './connect.ts';
import { parseMssqlUrl } from './url.ts';

export interface MssqlScratchDatabase {
  /** URL of the new, empty database (same server and credentials as the admin URL). */
  readonly url: string;
  readonly name: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * Creates `orderflow_test_<pid>_<random>` on the server `adminUrl` points at (e.g. its `master` database),
 * with `READ_COMMITTED_SNAPSHOT` set as asked (SQL Server's default is OFF; Azure SQL Database's is ON).
 */
export async function createMssqlScratchDatabase(
  adminUrl: string,
  options: { readCommittedSnapshot?: boolean } = {},
): Promise<MssqlScratchDatabase> {
  const name = `orderflow_test_${process.pid}_${randomUUID().slice(0, 8)}`;
  const admin = await openMssql({ url: adminUrl, maxConnections: 1, retry: { giveUpAfterMs: 60_000 } });
  try {
    await admin.db.execute(sql.raw(`create database [${name}]`));
    await admin.db.execute(
      sql.raw(
        `alter database [${name}] set read_committed_snapshot ${options.readCommittedSnapshot ? 'on' : 'off'} with rollback immediate`,
      ),
    );
  } finally {
    await admin.close();
  }
  const target = parseMssqlUrl(adminUrl);
  const url = adminUrl.replace(new RegExp(`/${encodeURIComponent(target.database)}(?=\\?|$)`), `/${name}`);
  let dropped: Promise<void> | undefined;
  return {
    url,
    name,
    drop: () => {
      dropped ??= (async () => {
        const conn = await openMssql({ url: adminUrl, maxConnections: 1, retry: { giveUpAfterMs: 10_000 } });
        try {
          await conn.db.execute(
            sql.raw(
              `if db_id('${name}') is not null begin alter database [${name}] set single_user with rollback immediate; drop database [${name}]; end`,
            ),
          );
        } finally {
          await conn.close();
        }
      })();
      return dropped;
    },
  };
}

/** Empties every table of every service, children before parents (foreign keys). */
export async function resetServiceTables(db: MssqlDb): Promise<void> {
  for (const table of [...ordersTables, ...paymentsTables]) await db.execute(sql`delete from ${table}`);
}
