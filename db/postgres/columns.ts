/**
 * Column helpers shared by every PostgreSQL table group, so the same concept has the same type everywhere:
 * money is `bigint` minor units (read as a JS `bigint`, never a float), currencies are `char(3)`,
 * timestamps are `timestamptz`.
 * @module
 */
import { type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { bigint, char, timestamp, varchar } from 'drizzle-orm/pg-core';

/** Money in integer minor units of the row's currency: `bigint`, read and written as a JS `bigint`. */
export const amountMinor = () => bigint('amount_minor', { mode: 'bigint' }).notNull();

/** ISO 4217 code, upper case. */
export const currency = () => char('currency', { length: 3 }).notNull();

/** Order ids are client-chosen: up to 64 characters (see `contracts/ids.ts`). */
export const orderIdColumn = (name: string) => varchar(name, { length: 64 }).notNull();

/** A `timestamptz` read as a `Date`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A required `timestamptz` defaulting to `now()`. */
export const createdAt = (name = 'created_at') => timestamptz(name).notNull().defaultNow();

/**
 * CHECK body: `column in ('A', 'B', …)`. The values are inlined (constraints cannot take parameters);
 * they come from code constants, never from input.
 */
export function oneOf(column: PgColumn, values: readonly string[]): SQL {
  const list = values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
  return sql`${column} in (${sql.raw(list)})`;
}

/** CHECK body: the amount is strictly positive. */
export const positive = (column: PgColumn): SQL => sql`${column} > 0`;

/** CHECK body: a three-letter upper-case currency code. */
export const currencyCode = (column: PgColumn): SQL => sql`${column} ~ '^[A-Z]{3}$'`;
