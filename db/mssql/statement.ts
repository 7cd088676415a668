/**
 * Statements as values. Every SQL Server statement a store issues is built by a small function
 * `(db, …args) => Statement` that the store executes and `statements.test.ts` renders with `toSQL()`, so the
 * test checks the SQL that really runs. drizzle's query builders already are statements; what drizzle's
 * mssql dialect cannot express in rc.5 (table hints such as `WITH (UPDLOCK, READPAST)`, `TOP` in an
 * updatable CTE) is raw `sql` wrapped by `rawStatement`, decoded through the table's own columns.
 * @module
 */
import {
  getTableColumns,
  type InferInsertModel,
  type InferSelectModel,
  type Query,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { MsSqlColumn, MsSqlTable } from 'drizzle-orm/mssql-core';
import { MsSqlDialect } from 'drizzle-orm/mssql-core';
import { nodeMssqlCodecs } from 'drizzle-orm/node-mssql/codecs';
import type { IResult } from 'mssql';
import type { MssqlDb } from './connect.ts';

/** A statement ready to run: `toSQL()` renders it exactly as `execute()` sends it. */
export interface Statement<T> {
  toSQL(): Query;
  execute(): Promise<T>;
}

/** Renders raw `sql` the way the node-mssql driver does (same dialect class, same codecs). */
const dialect = new MsSqlDialect({ codecs: nodeMssqlCodecs });

/** Raw `sql` plus how to turn the driver's result into `T`. */
export function rawStatement<T>(
  db: MssqlDb,
  query: SQL,
  decode: (result: IResult<Record<string, unknown>>) => T,
): Statement<T> {
  return {
    toSQL: () => dialect.sqlToQuery(query),
    execute: async () => decode(await db.execute<Record<string, unknown>>(query)),
  };
}

/** `[column_name]`: a bare column name, for statements over one table or a CTE. */
export const col = (column: MsSqlColumn): SQL => sql`${sql.identifier(column.name)}`;

/** `[a], [b], …` for every column of `table`, with an optional prefix such as `inserted.`. */
export function columnList(table: MsSqlTable, prefix = ''): SQL {
  return sql.join(
    Object.values(getTableColumns(table)).map((c) => sql`${sql.raw(prefix)}${sql.identifier(c.name)}`),
    sql`, `,
  );
}

/**
 * Decodes raw driver rows (keyed by column name) into the table's row type with each column's own
 * `mapFromDriverValue`: `bigint` → JS `bigint`, GUID → lower case, JSON text → object.
 */
export function decodeRows<T extends MsSqlTable>(
  table: T,
  rows: readonly Record<string, unknown>[],
): InferSelectModel<T>[] {
  const columns = Object.entries(getTableColumns(table)) as [string, MsSqlColumn][];
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const value = row[column.name];
      out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return out as InferSelectModel<T>;
  });
}

/** Rows of a raw statement, decoded as rows of `table`. */
export function rowsOf<T extends MsSqlTable>(table: T) {
  return (result: IResult<Record<string, unknown>>): InferSelectModel<T>[] =>
    decodeRows(table, result.recordset ?? []);
}

/** Number of rows the (single) statement changed. */
export const rowsAffected = (result: IResult<unknown>): number =>
  result.rowsAffected.reduce((a, b) => a + b, 0);

/**
 * `INSERT … OUTPUT inserted.* SELECT <values> WHERE NOT EXISTS (SELECT 1 FROM t WITH (UPDLOCK, HOLDLOCK) WHERE <key>)`:
 * inserts the row unless one with the same key exists, and returns what it inserted (nothing on a duplicate).
 *
 * Why it never surfaces a unique violation under concurrency: `HOLDLOCK` takes a key-range lock on the key
 * (present or absent) and `UPDLOCK` makes it a U lock, which two sessions cannot hold at once. So a second
 * caller waits in the `NOT EXISTS` probe until the first transaction ends, then sees its row and inserts
 * nothing; if the first rolled back, it inserts. (Without `UPDLOCK` both would take shared range locks and
 * deadlock on the insert.) The locks are held to the end of the caller's transaction. Only `key` is treated
 * as a duplicate: any other unique constraint (e.g. a reused tracking id) still raises error 2627.
 *
 * Every insertable column gets a value: the row's, else the column's SQL default (`sysutcdatetime()`), else
 * its literal default, else NULL (`DEFAULT` cannot appear in a SELECT list).
 */
export function insertUnlessExists<T extends MsSqlTable>(
  db: MssqlDb,
  table: T,
  row: InferInsertModel<T>,
  key: readonly (keyof InferSelectModel<T> & string)[],
) {
  const columns = getTableColumns(table) as Record<string, MsSqlColumn>;
  const values = Object.entries(columns)
    .filter(([, column]) => !isInsertDisabled(column))
    .map(([name, column]) => {
      const value = (row as Record<string, unknown>)[name];
      if (value !== undefined) return sql.param(value, column);
      if (column.default !== undefined)
        return isSql(column.default) ? column.default : sql.param(column.default, column);
      return sql`null`;
    });
  const match = sql.join(
    key.map((name) => {
      const column = columns[name];
      if (column === undefined) throw new TypeError(`insertUnlessExists: ${name} is not a column`);
      return sql`[existing].${sql.identifier(column.name)} = ${sql.param((row as Record<string, unknown>)[name], column)}`;
    }),
    sql` and `,
  );
  return db
    .insert(table)
    .output()
    .select(
      sql`select ${sql.join(values, sql`, `)} where not exists (select 1 from ${table} as [existing] with (updlock, holdlock) where ${match})`,
    );
}

/**
 * `sp_getapplock` on `resource`, waiting up to `timeoutMs`; resolves to its status (0 granted, 1 granted
 * after waiting, negative not granted: -1 timeout, -2 cancelled, -3 deadlock victim, -999 no result).
 * `Transaction` locks end with the transaction; `Session` locks with the connection or `sp_releaseapplock`.
 */
export function appLockStatement(
  db: MssqlDb,
  resource: string,
  owner: 'Transaction' | 'Session',
  timeoutMs: number,
): Statement<number> {
  return rawStatement(
    db,
    sql`declare @status int; exec @status = sp_getapplock @Resource = ${resource}, @LockMode = 'Exclusive', @LockOwner = ${sql.raw(`'${owner}'`)}, @LockTimeout = ${timeoutMs}; select @status as [status]`,
    (result) => Number(result.recordset?.[0]?.status ?? -999),
  );
}

function isInsertDisabled(column: MsSqlColumn): boolean {
  const probe = (column as unknown as { shouldDisableInsert?: () => boolean }).shouldDisableInsert;
  return typeof probe === 'function' && probe.call(column);
}

function isSql(value: unknown): value is SQL {
  return typeof value === 'object' && value !== null && 'queryChunks' in value;
}
