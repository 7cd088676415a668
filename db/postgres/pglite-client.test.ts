/**
 * The prepared-statement client over PGlite gives drizzle the same rows, types, errors and transaction
 * behaviour as PGlite's own `query`, on the first (PGlite's path) and every later run (prepared).
 */
import { type PGlite, TransactionAbortedError } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparingClient } from './pglite-client.ts';
import { createPglite } from './pglite-initdb.ts';

let pglite: PGlite;
let db: ReturnType<typeof drizzle>;
let executed: Uint8Array[] = [];

beforeAll(async () => {
  pglite = (await createPglite()).client;
  await pglite.exec(
    `create table t (id text primary key, n bigint, at timestamptz, doc jsonb, ok boolean, note text)`,
  );
  const execProtocol = pglite.execProtocol.bind(pglite);
  pglite.execProtocol = (message, options) => {
    executed.push(message);
    return execProtocol(message, options);
  };
  db = drizzle({ client: preparingClient(pglite) as unknown as PGlite });
}, 60_000);

afterAll(() => pglite?.close());

const insert = (id: string, n: bigint | null, at: Date, doc: object, ok: boolean, note: string | null) =>
  db.execute(sql`insert into t values (${id}, ${n}, ${at}, ${doc}, ${ok}, ${note}) returning *`);

describe('preparingClient', () => {
  it('returns the same rows and types on the first run and on prepared runs', async () => {
    const at = new Date('2030-01-02T03:04:05.678Z');
    const first = await insert('a', 12345678901234n, at, { k: [1, 'x'] }, true, "it's");
    const second = await insert('b', 12345678901234n, at, { k: [1, 'x'] }, true, "it's");
    executed = [];
    const third = await insert('c', null, at, {}, false, null);
    // Once prepared, one call into PGlite: Bind + Describe + Execute + Sync.
    expect(executed).toHaveLength(1);
    expect(first.rows[0]).toMatchObject({ id: 'a', ok: true, note: "it's", doc: { k: [1, 'x'] } });
    expect({ ...second.rows[0], id: 'a' }).toEqual(first.rows[0]);
    expect(third.rows[0]).toMatchObject({ id: 'c', n: null, ok: false, note: null, doc: {} });
    const [row] = (await db.execute(sql`select n::text as n, at = ${at} as same from t where id = ${'b'}`))
      .rows;
    expect(row).toEqual({ n: '12345678901234', same: true });
  });

  it("surfaces PostgreSQL's errors with their codes and keeps working afterwards", async () => {
    for (let i = 0; i < 2; i++) {
      await expect(insert('a', 1n, new Date(), {}, true, null)).rejects.toMatchObject({
        cause: expect.objectContaining({ code: '23505' }),
      });
    }
    expect((await insert('d', 1n, new Date(), {}, true, null)).rows).toHaveLength(1);
  });

  it('rolls a failed transaction back and the prepared statements survive the rollback', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into t (id) values (${'e'})`);
        await tx.execute(sql`insert into t (id) values (${'e'})`);
      }),
    ).rejects.toThrow();
    await db.transaction(async (tx) => {
      await tx.execute(sql`insert into t (id) values (${'f'})`);
      await tx.execute(sql`insert into t (id) values (${'g'})`);
    });
    const ids = (await db.execute(sql`select id from t where id in ('e', 'f', 'g') order by id`)).rows;
    expect(ids).toEqual([{ id: 'f' }, { id: 'g' }]);
  });

  it('refuses to commit a transaction PostgreSQL aborted, and honours an explicit rollback', async () => {
    const client = preparingClient(pglite);
    await expect(
      client.transaction(async (tx) => {
        await tx.query('insert into t (id) values ($1)', ['h']);
        await tx.query('select nonsense from nowhere').catch(() => {});
      }),
    ).rejects.toBeInstanceOf(TransactionAbortedError);
    await client.transaction(async (tx) => {
      await tx.query('insert into t (id) values ($1)', ['i']);
      await tx.rollback();
    });
    expect((await client.query('select id from t where id in ($1, $2)', ['h', 'i'])).rows).toEqual([]);
    expect(pglite.isInTransaction()).toBe(false);
  });

  it('prepares a statement again after someone deallocated it', async () => {
    const count = () => db.execute(sql`select count(*)::int as n from t where id > ${''}`);
    await count();
    const before = (await count()).rows[0];
    await pglite.exec('deallocate all');
    await expect(count()).rejects.toMatchObject({ cause: expect.objectContaining({ code: '26000' }) });
    expect((await count()).rows[0]).toEqual(before);
  });
});
