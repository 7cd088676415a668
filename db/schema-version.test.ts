/**
 * `serve` checks the schema version instead of migrating (`openStores(…, { migrate: false })`): an unmigrated
 * or partly migrated database is refused with the job to run, a migrated one opens, and no DDL is applied.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationNames } from './migrations-root.ts';
import { openStores } from './open-stores.ts';
import { openPostgres } from './postgres/connect.ts';
import { MIGRATIONS_SCHEMA } from './postgres/migrate.ts';
import { requireMigrated, SchemaBehindError } from './schema-version.ts';

describe('requireMigrated', () => {
  it('passes when every migration of the build is applied, newer applied ones included', () => {
    expect(() => requireMigrated('orders', ['a', 'b'], ['a', 'b', 'c'])).not.toThrow();
  });

  it('names the service, how many are missing, the first one and the migrate job', () => {
    expect(() => requireMigrated('orders', ['a', 'b', 'c'], ['a'])).toThrow(SchemaBehindError);
    expect(() => requireMigrated('orders', ['a', 'b', 'c'], ['a'])).toThrow(
      /^orders: the database is 2 migration\(s\) behind this build \(first missing: b\); run the migrate job/,
    );
  });
});

describe('openStores without migrating (serve)', () => {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-schema-version-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const target = (dir: string) => () => ({ dialect: 'pglite' as const, dataDir: join(root, dir) });

  it('refuses a database the migrate job has not run on, and creates nothing in it', async () => {
    await expect(openStores(['orders'], target('empty'), { migrate: false })).rejects.toThrow(
      SchemaBehindError,
    );
    const conn = await openPostgres({ dataDir: join(root, 'empty') });
    try {
      const schemas = await conn.db.execute(
        sql`select schema_name from information_schema.schemata where schema_name in ('orders', ${MIGRATIONS_SCHEMA})`,
      );
      expect((schemas as unknown as { rows: unknown[] }).rows).toEqual([]);
    } finally {
      await conn.close();
    }
  });

  it('opens a migrated database, and refuses it once it is one migration behind the build', async () => {
    const migrated = await openStores(['orders'], target('behind'), { migrate: true });
    await migrated.close();
    const opened = await openStores(['orders'], target('behind'), { migrate: false });
    await expect(opened.stores.orders!.ping()).resolves.toBeUndefined();
    await opened.close();

    const latest = migrationNames('postgres', 'orders').at(-1)!;
    const conn = await openPostgres({ dataDir: join(root, 'behind') });
    await conn.db.execute(
      sql`delete from ${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier('__drizzle_migrations_orders')} where name = ${latest}`,
    );
    await conn.close();
    await expect(openStores(['orders'], target('behind'), { migrate: false })).rejects.toThrow(
      `first missing: ${latest}`,
    );
  });
});
