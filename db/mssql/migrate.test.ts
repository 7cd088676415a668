/**
 * `migrate()` without a server: over the recording client it must take the session-level migration lock
 * first, then let drizzle's mssql migrator send the checked-in migration statements in one transaction and
 * record them in the service's own history table, then release the lock; and do nothing but that when the
 * lock is not granted. (That SQL Server accepts the DDL is for `store.mssql.int.test.ts`.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type mssql from 'mssql';
import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, migrationConfig, migrationsFolder } from './migrate.ts';
import { createRecordingClient } from './recording-client.ts';

const rec = createRecordingClient();
let poolConfig: mssql.config | undefined;
const createPool = (config: mssql.config) => {
  poolConfig = config;
  return rec.pool;
};
const orders = { service: 'orders', connection: rec.connection };
const isLock = (sql: string) => sql.includes('sp_getapplock');
const isHistoryRead = (sql: string) => sql.startsWith('select id, hash, created_at, name from');

/** The statements of every checked-in orders migration, as the migrator splits them. */
function migrationStatements(): string[] {
  const folder = migrationsFolder('orders');
  return readMigrationFiles(migrationConfig('orders')).flatMap((m) =>
    readFileSync(join(folder, m.name!, 'migration.sql'), 'utf8')
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
}

beforeEach(() => {
  rec.clear();
  poolConfig = undefined;
});

describe('migrate (SQL Server)', () => {
  it('locks, applies every migration in one transaction with its history row, and unlocks', async () => {
    rec.respond((q) => (isLock(q.sql) ? { recordset: [{ status: 0 }] } : undefined));
    await migrate(orders, { createPool });

    expect(poolConfig).toMatchObject({ pool: { min: 1, max: 1 }, requestTimeout: 180_000 });
    const queries = rec.queries();
    expect(queries[0]).toMatchObject({
      sql: expect.stringContaining("@LockOwner = 'Session'"),
      params: ['orderflow:migrations', 120_000],
      transaction: 0,
    });
    expect(queries.at(-1)?.sql).toBe("exec sp_releaseapplock @Resource = @par0, @LockOwner = 'Session'");
    expect(queries.some((q) => /EXEC\('CREATE SCHEMA \[drizzle\]'\)/.test(q.sql))).toBe(true);
    expect(queries.some((q) => q.sql.includes('CREATE TABLE [drizzle].[__drizzle_migrations_orders]'))).toBe(
      true,
    );

    const inTransaction = queries.filter((q) => q.transaction > 0);
    const isHistoryInsert = (sql: string) =>
      /^insert into \[drizzle\]\.\[__drizzle_migrations_orders\] \(\[hash\], \[created_at\], \[name\]\)/.test(
        sql,
      );
    // Each migration's statements, then its history row (one per checked-in migration).
    expect(inTransaction.filter((q) => !isHistoryInsert(q.sql)).map((q) => q.sql.trim())).toEqual(
      migrationStatements(),
    );
    expect(inTransaction.filter((q) => isHistoryInsert(q.sql))).toHaveLength(
      readMigrationFiles(migrationConfig('orders')).length,
    );
    expect(isHistoryInsert(inTransaction.at(-1)?.sql ?? '')).toBe(true);
    expect(rec.events.filter((e) => e.kind !== 'query').map((e) => e.kind)).toEqual(['begin', 'commit']);
  });

  it('sends no DDL when every migration is already recorded', async () => {
    const applied = readMigrationFiles(migrationConfig('orders')).map((m, i) => ({
      id: i + 1,
      hash: m.hash,
      created_at: m.folderMillis,
      name: m.name,
    }));
    rec.respond((q) =>
      isLock(q.sql)
        ? { recordset: [{ status: 1 }] }
        : q.sql.includes('INFORMATION_SCHEMA.TABLES')
          ? { recordset: [{ one: 1 }] }
          : q.sql.includes('INFORMATION_SCHEMA.COLUMNS')
            ? {
                recordset: ['id', 'hash', 'created_at', 'name', 'applied_at'].map((column_name) => ({
                  column_name,
                })),
              }
            : isHistoryRead(q.sql)
              ? { recordset: applied }
              : undefined,
    );
    await migrate(orders, { createPool });
    expect(rec.queries().filter((q) => q.transaction > 0)).toEqual([]);
    expect(rec.queries().some((q) => q.sql.includes('CREATE TABLE [orders]'))).toBe(false);
  });

  it('fails without touching the schema when the lock is not granted, and still releases the connection', async () => {
    rec.respond((q) => (isLock(q.sql) ? { recordset: [{ status: -1 }] } : undefined));
    await expect(migrate(orders, { createPool, lockTimeoutMs: 5 })).rejects.toThrow(
      'orders: could not take the migration lock on recording:0/recording (sp_getapplock returned -1)',
    );
    expect(rec.queries().map((q) => q.sql.split(' ')[0])).toEqual(['declare', 'exec']);
  });
});
