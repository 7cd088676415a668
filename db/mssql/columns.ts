/**
 * Column helpers shared by every SQL Server table group, mirroring `db/postgres/columns.ts` so a concept has
 * the same meaning in both dialects: money is `bigint` minor units (read as a JS `bigint`, never a float),
 * timestamps are UTC `datetime2(3)` (millisecond precision, what a JS `Date` holds), GUIDs are
 * `uniqueidentifier` read back in lower case (SQL Server returns them upper case; PostgreSQL lower case).
 *
 * Keys that PostgreSQL compares case-sensitively (order ids, idempotency keys, tracking ids, consumer
 * names) are `nvarchar(n) COLLATE Latin1_General_100_BIN2` here: under a database's usual case-insensitive
 * collation `ord-A` and `ord-a` would otherwise be the same primary key. `nvarchar` (not `varchar`) because
 * the mssql driver sends JS strings as `nvarchar` parameters; a `varchar` column compared with one is
 * implicitly converted, which can turn an index seek into a scan.
 * @module
 */
import { type SQL, sql } from 'drizzle-orm';
import { type AnyMsSqlColumn, bigint, char, customType, datetime2, varchar } from 'drizzle-orm/mssql-core';

/** Binary (ordinal, case- and accent-sensitive) collation for keys and codes. */
export const BINARY_COLLATION = 'Latin1_General_100_BIN2';

/** A `uniqueidentifier` as a lower-case string. rc.5 has no builder for it, hence `customType`. */
export const uniqueidentifier = customType<{ data: string; driverData: string }>({
  dataType: () => 'uniqueidentifier',
  fromDriver: (value) => String(value).toLowerCase(),
});

/** `nvarchar(length)` compared by code point, like PostgreSQL's default `text` comparison. */
export const binaryText = (name: string, length: number) =>
  customType<{ data: string; driverData: string }>({
    dataType: () => `nvarchar(${length}) collate ${BINARY_COLLATION}`,
  })(name);

/** Money in integer minor units of the row's currency: `bigint`, read and written as a JS `bigint`. */
export const amountMinor = () => bigint('amount_minor', { mode: 'bigint' }).notNull();

/** ISO 4217 code, upper case (enforced by `currencyCode`). */
export const currency = () => char('currency', { length: 3 }).notNull();

/** Order ids are client-chosen: up to 64 characters of `[A-Za-z0-9_-]`, case-sensitive (see `contracts/ids.ts`). */
export const orderIdColumn = (name: string) => binaryText(name, 64).notNull();

/** A short code column (status, kind): plain `varchar`, its values pinned by a CHECK. */
export const code = (name: string, length: number) => varchar(name, { length });

/** A UTC `datetime2(3)` read as a `Date` (the driver runs with `useUTC: true`). */
export const utcDatetime = (name: string) => datetime2(name, { precision: 3, mode: 'date' });

/** A required UTC timestamp defaulting to `sysutcdatetime()`. */
export const createdAt = (name = 'created_at') => utcDatetime(name).notNull().default(sql`sysutcdatetime()`);

/**
 * CHECK body: `column in ('A', 'B', …)`, compared by code point so `'pending'` is refused like in PostgreSQL.
 * The values are inlined (constraints cannot take parameters); they come from code constants, never from input.
 */
export function oneOf(column: AnyMsSqlColumn, values: readonly string[]): SQL {
  const list = values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
  return sql`${bare(column)} collate ${sql.raw(BINARY_COLLATION)} in (${sql.raw(list)})`;
}

/** CHECK body: the amount is strictly positive. */
export const positive = (column: AnyMsSqlColumn): SQL => sql`${bare(column)} > 0`;

/** CHECK body: three upper-case ASCII letters (T-SQL has no regex; `LIKE` with a binary collation does it). */
export const currencyCode = (column: AnyMsSqlColumn): SQL =>
  sql`${bare(column)} collate ${sql.raw(BINARY_COLLATION)} like '[A-Z][A-Z][A-Z]'`;

/**
 * The column's bare name, `[amount_minor]`. drizzle renders a column in a CHECK as `[table].[column]`;
 * the unqualified name is what T-SQL documents for constraints and cannot fail to bind.
 */
function bare(column: AnyMsSqlColumn): SQL {
  return sql`${sql.identifier(column.name)}`;
}
