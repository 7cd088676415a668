/**
 * Test support for a PostgreSQL server: a uniquely named database created for one test run and dropped
 * after it, so repeated or parallel runs against the same server never see each other's rows.
 * @module
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  /** URL of the new, empty database (same server and credentials as the admin URL). */
  readonly url: string;
  readonly name: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * Creates `orderflow_test_<pid>_<random>` on the server `adminUrl` points at (the user needs CREATEDB).
 * @example
 * const scratch = await createScratchDatabase(process.env.DATABASE_URL!);
 * const conn = await openPostgres({ url: scratch.url });
 * // … tests …
 * await conn.close(); await scratch.drop();
 */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `orderflow_test_${process.pid}_${randomUUID().slice(0, 8)}`;
  await withClient(adminUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () => {
      dropped ??= withClient(adminUrl, async (client) => {
        await client.query(`drop database if exists "${name}" with (force)`);
      });
      return dropped;
    },
  };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
