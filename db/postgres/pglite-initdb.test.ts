/**
 * createPglite: initdb runs once per cache directory, later databases start from the saved dump and are
 * independent, a data directory with a database is reopened untouched, and a broken dump falls back to initdb.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { createPglite } from './pglite-initdb.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'orderflow-initdb-test-'));
const opened: PGlite[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  rmSync(cacheDir, { recursive: true, force: true });
});
const open = async (options: Parameters<typeof createPglite>[0]) => {
  const created = await createPglite(options);
  opened.push(created.client);
  return created;
};
const dumps = () => readdirSync(cacheDir).filter((f) => f.endsWith('.tar.gz'));

describe('createPglite', () => {
  it('runs initdb once, then starts new databases from the dump, each its own', async () => {
    const first = await open({ cacheDir });
    expect(first.source).toBe('initdb');
    expect(dumps()).toHaveLength(1);
    await first.client.exec('create table t (x int); insert into t values (1)');

    const second = await open({ cacheDir });
    expect(second.source).toBe('cache');
    // The dump is taken before anything ran on the first database: the table is not in the second.
    const tables = await second.client.query<{ n: number }>(
      `select count(*)::int as n from pg_tables where tablename = 't'`,
    );
    expect(tables.rows[0]!.n).toBe(0);
    await second.client.exec('create table t (x int); insert into t values (2), (3)');
    const rows = await first.client.query<{ n: number }>('select count(*)::int as n from t');
    expect(rows.rows[0]!.n).toBe(1);
  }, 60_000);

  it('fills an empty data directory from the dump and reopens it as it is', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orderflow-initdb-data-'));
    try {
      const created = await createPglite({ dataDir, cacheDir });
      expect(created.source).toBe('cache');
      await created.client.exec('create table kept (x int); insert into kept values (42)');
      await created.client.close();
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

      const reopened = await createPglite({ dataDir, cacheDir });
      expect(reopened.source).toBe('existing');
      const rows = await reopened.client.query<{ x: number }>('select x from kept');
      expect(rows.rows).toEqual([{ x: 42 }]);
      await reopened.client.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('replaces a dump that does not load with a fresh initdb', async () => {
    const [dump] = dumps();
    writeFileSync(join(cacheDir, dump!), 'not a tarball');
    const created = await open({ cacheDir });
    expect(created.source).toBe('initdb');
    const result = await created.client.query<{ one: number }>('select 1 as one');
    expect(result.rows).toEqual([{ one: 1 }]);
    const next = await open({ cacheDir });
    expect(next.source).toBe('cache');
  }, 60_000);

  it('never touches a cache with cacheDir: false', async () => {
    const before = dumps();
    const created = await open({ cacheDir: false });
    expect(created.source).toBe('initdb');
    expect(dumps()).toEqual(before);
  }, 60_000);
});
