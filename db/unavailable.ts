/**
 * Telling "the database is unavailable" from "this statement is wrong", for both dialects. Drivers and drizzle
 * wrap errors (drizzle's query error → the driver's error → a socket error, Node's `AggregateError` for several
 * addresses), so every test looks at the whole chain of causes.
 * @module
 */

/** Socket-level failures: the server cannot be reached or the connection broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

/** The error, its `cause`s and the members of any `AggregateError` on the way, depth-first, at most 32. */
export function* errorChain(error: unknown): Generator<Record<string, unknown>> {
  const stack: unknown[] = [error];
  let seen = 0;
  while (stack.length > 0 && seen < 32) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) continue;
    seen += 1;
    const record = current as Record<string, unknown>;
    yield record;
    if (Array.isArray(record.errors)) stack.push(...record.errors);
    if (record.cause !== undefined) stack.push(record.cause);
  }
}

/** True when any error of the chain is a socket-level failure (`code` ECONNREFUSED, ECONNRESET, …). */
export function isNetworkFailure(error: unknown): boolean {
  for (const link of errorChain(error))
    if (typeof link.code === 'string' && NETWORK_CODES.has(link.code)) return true;
  return false;
}

/**
 * PostgreSQL (node-postgres, PGlite): SQLSTATE classes 08 (connection exception), 53 (insufficient resources:
 * too many connections, out of memory, disk full), 57P (admin/crash shutdown, cannot connect now), 57014
 * (statement timeout / cancel), 40001 and 40P01 (serialization failure, deadlock: retry as a whole); pg-pool's
 * acquire timeout and node-postgres' "connection terminated" messages; any socket failure.
 */
export function isPostgresUnavailable(error: unknown): boolean {
  if (isNetworkFailure(error)) return true;
  for (const link of errorChain(error)) {
    const code = typeof link.code === 'string' ? link.code : '';
    if (/^(08|53|57P)/.test(code) || code === '57014' || code === '40001' || code === '40P01') return true;
    const message = typeof link.message === 'string' ? link.message : '';
    if (
      /timeout exceeded when trying to connect|Connection terminated|connection is not queryable|Client was closed|terminating connection|the database system is (starting up|shutting down)/i.test(
        message,
      )
    )
      return true;
  }
  return false;
}

/**
 * SQL Server error numbers that mean "not now": deadlock victim (1205), lock request timeout (1222), cannot
 * open database / login failed while it starts (4060, 18456 is not here: a wrong password is configuration),
 * transport-level errors (233, 10053, 10054, 10060, 64), Azure SQL's transient set (40197, 40501, 40613, 49918,
 * 49919, 49920, 10928, 10929, 4221), and -2 (client timeout).
 */
const MSSQL_TRANSIENT_NUMBERS = new Set([
  -2, 64, 233, 1205, 1222, 4060, 4221, 10053, 10054, 10060, 10928, 10929, 40197, 40501, 40613, 49918, 49919,
  49920,
]);

/** node-mssql / tedious codes for a broken or missing connection, a timeout, or an exhausted pool. */
const MSSQL_CODES = new Set(['ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ENOTOPEN', 'ENOCONN', 'EINSTLOOKUP']);

/** SQL Server (node-mssql over tedious, with tarn's pool). */
export function isMssqlUnavailable(error: unknown): boolean {
  if (isNetworkFailure(error)) return true;
  for (const link of errorChain(error)) {
    if (typeof link.number === 'number' && MSSQL_TRANSIENT_NUMBERS.has(link.number)) return true;
    if (typeof link.code === 'string' && MSSQL_CODES.has(link.code)) return true;
    if (link.name === 'ConnectionError' || link.name === 'TimeoutError') return true;
  }
  return false;
}
