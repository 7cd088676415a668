/**
 * Statements a PostgreSQL server parses and plans once per connection instead of at every execution.
 *
 * drizzle's `execute()` sends every statement unnamed, so the server parses, analyses and plans it each time
 * (on this project's 2-core VM, the same order path ran 10,000 such statements in 3 s of load, most of them
 * the same dozen texts). {@link NamedStatementClient} is a `pg.Client` that gives each repeated parameterised
 * text a name derived from the text: `pg` then prepares it on a connection the first time it runs there and
 * afterwards sends only Bind/Execute (pg's own `parsedStatements` bookkeeping, per connection). PGlite has the
 * same done inside its client (`pglite-client.ts`).
 *
 * - Only statements with parameters are named: parameterless ones (BEGIN, COMMIT, DDL, a migration's several
 *   statements in one text) keep the simple protocol, where a name would force one statement per text.
 * - At most {@link MAX_NAMED_STATEMENTS} texts get a name per process, first come first named, so a
 *   connection holds a bounded number of prepared statements whatever the variety of texts (drizzle's
 *   `IN (…)` lists make one text per list length); later texts run unnamed, as before.
 * - Statements name their columns (drizzle does), so a migration that adds a column does not change the
 *   result type of a prepared statement; PostgreSQL re-plans it by itself when a table it uses changes.
 * - A connection pooler in transaction mode that does not track protocol-level prepared statements
 *   (PgBouncer before 1.21, or with `max_prepared_statements = 0`) cannot carry them: open the database with
 *   `prepare=false` in its URL (`postgres://…/db?prepare=false`) and every statement runs unnamed.
 * @module
 */
import pg from 'pg';

/** Most statement texts named per process. */
export const MAX_NAMED_STATEMENTS = 500;

const names = new Map<string, string>();

/** The name of `text`, given on first sight while fewer than the cap are named; undefined otherwise. */
export function statementName(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined || names.size >= MAX_NAMED_STATEMENTS) return known;
  const name = `of${names.size.toString(36)}`;
  names.set(text, name);
  return name;
}

/** A query as drizzle hands it to `pg` (a config object; `values` beside it or inside). */
interface QueryConfigLike {
  text?: unknown;
  name?: unknown;
  values?: unknown;
}

/** A `pg.Client` that names repeated parameterised statements (see the module). Give it to `pg.Pool` as `Client`. */
export class NamedStatementClient extends pg.Client {
  // biome-ignore-start lint/suspicious/noExplicitAny: pg's query() has many overloads; this forwards them all.
  override query(config: any, values?: any, callback?: any): any {
    if (isUnnamed(config) && hasParameters(config, values)) {
      const name = statementName(config.text as string);
      if (name !== undefined) return super.query({ ...config, name } as any, values, callback);
    }
    return super.query(config, values, callback);
  }
  // biome-ignore-end lint/suspicious/noExplicitAny: see above
}

function isUnnamed(config: unknown): config is QueryConfigLike {
  if (typeof config !== 'object' || config === null) return false;
  const query = config as QueryConfigLike;
  // A Submittable (pg-cursor, pg-query-stream) has a submit() of its own and is passed through untouched.
  return typeof query.text === 'string' && query.name === undefined && !('submit' in config);
}

function hasParameters(config: QueryConfigLike, values: unknown): boolean {
  const list = Array.isArray(values) ? values : config.values;
  return Array.isArray(list) && list.length > 0;
}

/**
 * Reads and removes `prepare=false|true` from a server URL (`pg` itself does not know the parameter).
 * @example preparedStatementsOption('postgres://db/app?prepare=false') // { url: 'postgres://db/app', prepare: false }
 */
export function preparedStatementsOption(url: string): { url: string; prepare: boolean } {
  const match = /([?&])prepare=(true|false|on|off|1|0)(&|$)/i.exec(url);
  if (match === null) return { url, prepare: true };
  const prepare = /^(true|on|1)$/i.test(match[2]!);
  const rest =
    url.slice(0, match.index) + (match[3] === '&' ? match[1] : '') + url.slice(match.index + match[0].length);
  return { url: rest, prepare };
}
