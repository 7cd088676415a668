/**
 * On a PostgreSQL server (`DATABASE_URL`), repeated parameterised statements are prepared once per connection
 * and parameterless ones are not; `?prepare=false` prepares nothing.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openPostgres } from './connect.ts';

const url = process.env.DATABASE_URL;
const server = url?.startsWith('postgres') === true;
if (!server)
  console.log(
    '[skipped] prepared statements on a server (db/postgres/named-statements.int.test.ts): DATABASE_URL is not a postgres:// URL',
  );

const PARAMETERISED = 'select $1::int as named_statement_probe';
const PARAMETERLESS = 'select 3 as parameterless_probe';

/** Runs both probes twice on one connection; returns the probe texts prepared on that connection. */
async function preparedProbes(databaseUrl: string): Promise<string[]> {
  const { db, close } = await openPostgres({ url: databaseUrl, maxConnections: 1 });
  try {
    return await db.transaction(async (tx) => {
      for (const n of [1, 2]) {
        await tx.execute(sql`select ${n}::int as named_statement_probe`);
        await tx.execute(sql.raw(PARAMETERLESS));
      }
      const result = (await tx.execute(
        sql.raw(
          `select statement from pg_prepared_statements where statement in ('${PARAMETERISED}', '${PARAMETERLESS}')`,
        ),
      )) as unknown as { rows: { statement: string }[] };
      return result.rows.map((row) => row.statement);
    });
  } finally {
    await close();
  }
}

describe.skipIf(!server)('named statements on a server', () => {
  it('prepares a repeated parameterised statement on its connection, a parameterless one never', async () => {
    expect(await preparedProbes(url!)).toEqual([PARAMETERISED]);
  });

  it('prepares nothing with ?prepare=false', async () => {
    const separator = url!.includes('?') ? '&' : '?';
    expect(await preparedProbes(`${url}${separator}prepare=false`)).toEqual([]);
  });
});
