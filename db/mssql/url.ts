/**
 * SQL Server connection URLs → `mssql` driver configuration. Accepted forms (scheme case-insensitive):
 *
 * ```text
 * mssql://user:password@host:port/database?encrypt=true&trustServerCertificate=true
 * sqlserver://user:password@host:port/database?…            (same as mssql://)
 * sqlserver://host:port;databaseName=orders;user=sa;password=…;encrypt=true   (JDBC style)
 * ```
 *
 * - `user` and `password` are percent-decoded (`p%40ss` → `p@ss`); a JDBC-style value may be wrapped in `{…}`
 *   to contain `;`. In URL form, `@ / ? #` in them must be percent-encoded: an `@` after the host is an error.
 * - Errors never quote the password, nor a piece of it (`runtime/redact.ts`).
 * - `host` may be a name, an IPv4 address or a bracketed IPv6 address; `port` defaults to 1433.
 * - `database` is required: migrations create the service schemas in it, never in the login's default database.
 * - Options (query string or `;key=value`): `encrypt` (default true), `trustServerCertificate` (default false),
 *   `connectTimeout` / `requestTimeout` (ms, default 15000), `instanceName`, `appName` (default `orderflow`),
 *   `poolMax` (default 10). Booleans take true/false/yes/no/1/0. Unknown options are an error, so a typo
 *   does not silently fall back to a default.
 * @module
 */
import type mssql from 'mssql';
import { redactText } from '../../runtime/redact.ts';

/** What a URL says about where and how to connect. Passwords never appear in `describe`. */
export interface MssqlUrl {
  host: string;
  port: number;
  database: string;
  user: string | undefined;
  password: string | undefined;
  encrypt: boolean;
  trustServerCertificate: boolean;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  instanceName: string | undefined;
  appName: string;
  poolMax: number;
}

/** The URL is not a usable SQL Server URL; the message says why (never including the password: `redactText`). */
export class MssqlUrlError extends TypeError {
  override name = 'MssqlUrlError';
}

const SCHEME = /^(mssql|sqlserver):\/\//i;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?$/;

/** True for URLs `parseMssqlUrl` reads: `mssql://…` or `sqlserver://…`. */
export function isMssqlUrl(url: string): boolean {
  return SCHEME.test(url);
}

/** Option names as written in URLs (lower-cased for lookup) → canonical key. */
const OPTION_NAMES: Record<string, keyof typeof OPTION_PARSERS> = {
  encrypt: 'encrypt',
  trustservercertificate: 'trustServerCertificate',
  connecttimeout: 'connectTimeout',
  connectiontimeout: 'connectTimeout',
  logintimeout: 'connectTimeout',
  requesttimeout: 'requestTimeout',
  instancename: 'instanceName',
  appname: 'appName',
  applicationname: 'appName',
  poolmax: 'poolMax',
};

const OPTION_PARSERS = {
  encrypt: bool,
  trustServerCertificate: bool,
  connectTimeout: (v: string, k: string) => integer(v, k, 1, 3_600_000),
  requestTimeout: (v: string, k: string) => integer(v, k, 0, 86_400_000),
  instanceName: (v: string) => v,
  appName: (v: string) => v,
  poolMax: (v: string, k: string) => integer(v, k, 1, 1000),
};

/**
 * Parses a SQL Server URL. Throws `MssqlUrlError` naming what is wrong.
 * @example parseMssqlUrl('mssql://sa:secret@db:1433/orders?trustServerCertificate=true').database // 'orders'
 */
export function parseMssqlUrl(url: string): MssqlUrl {
  try {
    return parse(url);
  } catch (error) {
    // A message may quote a piece of the URL (an option name, a value); a piece of a password is masked.
    if (error instanceof MssqlUrlError) throw new MssqlUrlError(redactText(error.message, { urls: [url] }));
    throw error;
  }
}

function parse(url: string): MssqlUrl {
  if (!isMssqlUrl(url)) throw new MssqlUrlError('SQL Server URL must start with mssql:// or sqlserver://');
  const rest = url.replace(SCHEME, '');
  const semicolon = rest.indexOf(';');
  // JDBC style: nothing but host[:port] before the first `;` (a URL-style password with `;` has an `@` after it).
  const jdbcStyle = semicolon >= 0 && HOST_PORT.test(rest.slice(0, semicolon));
  const parsed = jdbcStyle ? parseJdbcStyle(rest) : parseUrlStyle(url);
  const options: Record<string, string> = {};
  for (const [rawKey, value] of parsed.options) {
    const key = OPTION_NAMES[rawKey.toLowerCase()];
    if (key === undefined) {
      if (
        jdbcStyle &&
        ['databasename', 'database', 'user', 'password', 'userid'].includes(rawKey.toLowerCase())
      )
        continue;
      throw new MssqlUrlError(
        `unknown SQL Server URL option "${rawKey}" (known: encrypt, trustServerCertificate, connectTimeout, requestTimeout, instanceName, appName, poolMax)`,
      );
    }
    options[key] = value;
  }
  const read = <K extends keyof typeof OPTION_PARSERS>(
    key: K,
  ): ReturnType<(typeof OPTION_PARSERS)[K]> | undefined =>
    options[key] === undefined
      ? undefined
      : (OPTION_PARSERS[key](options[key], key) as ReturnType<(typeof OPTION_PARSERS)[K]>);
  if (parsed.host === '') throw new MssqlUrlError('SQL Server URL has no host');
  if (parsed.database === undefined || parsed.database === '')
    throw new MssqlUrlError('SQL Server URL names no database (mssql://host:1433/<database>)');
  return {
    host: parsed.host,
    port: parsed.port ?? 1433,
    database: parsed.database,
    user: parsed.user,
    password: parsed.password,
    encrypt: read('encrypt') ?? true,
    trustServerCertificate: read('trustServerCertificate') ?? false,
    connectTimeoutMs: read('connectTimeout') ?? 15_000,
    requestTimeoutMs: read('requestTimeout') ?? 15_000,
    instanceName: read('instanceName'),
    appName: read('appName') ?? 'orderflow',
    poolMax: read('poolMax') ?? 10,
  };
}

/** The `mssql.ConnectionPool` configuration for a parsed URL. `useUTC` keeps `datetime2` values in UTC. */
export function toPoolConfig(
  target: MssqlUrl,
  overrides: { poolMax?: number; connectTimeoutMs?: number } = {},
): mssql.config {
  return {
    server: target.host,
    // With an instance name the port comes from the SQL Browser service, so it must not be set.
    ...(target.instanceName === undefined ? { port: target.port } : {}),
    database: target.database,
    ...(target.user !== undefined ? { user: target.user } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    connectionTimeout: overrides.connectTimeoutMs ?? target.connectTimeoutMs,
    requestTimeout: target.requestTimeoutMs,
    pool: {
      min: 0,
      max: overrides.poolMax ?? target.poolMax,
      idleTimeoutMillis: 30_000,
      // An exhausted pool fails within 5 s (a TimeoutError the store classifies as unavailable) instead of queueing forever.
      acquireTimeoutMillis: 5_000,
    },
    options: {
      encrypt: target.encrypt,
      trustServerCertificate: target.trustServerCertificate,
      useUTC: true,
      appName: target.appName,
      ...(target.instanceName !== undefined ? { instanceName: target.instanceName } : {}),
    },
  };
}

/** `host:port/database` (or `host\instance/database`): what log lines and errors name. */
export function describeTarget(
  target: Pick<MssqlUrl, 'host' | 'port' | 'database' | 'instanceName'>,
): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const where =
    target.instanceName === undefined ? `${host}:${target.port}` : `${host}\\${target.instanceName}`;
  return `${where}/${target.database}`;
}

interface RawParts {
  host: string;
  port: number | undefined;
  database: string | undefined;
  user: string | undefined;
  password: string | undefined;
  options: [string, string][];
}

function parseUrlStyle(url: string): RawParts {
  let parsed: URL;
  try {
    // WHATWG URL parses the authority of special schemes only; give it one it treats generically.
    parsed = new URL(url.replace(SCHEME, 'mssql://'));
  } catch {
    throw new MssqlUrlError('SQL Server URL is not a valid URL');
  }
  // An `@` after the host means the password held an unencoded `/ ? #`: the URL parser took a piece of the
  // password for the host and port, and the rest for the database or the options.
  if (`${parsed.pathname}${parsed.search}${parsed.hash}`.includes('@'))
    throw new MssqlUrlError(
      'SQL Server URL has an "@" after its host: percent-encode @ / ? # in the user name and password (%40 %2F %3F %23)',
    );
  const path = decode(parsed.pathname.replace(/^\//, ''), 'database');
  if (path.includes('/')) throw new MssqlUrlError('SQL Server URL path must be a single database name');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: parsed.port === '' ? undefined : integer(parsed.port, 'port', 1, 65_535),
    database: path === '' ? undefined : path,
    user: parsed.username === '' ? undefined : decode(parsed.username, 'user'),
    password: parsed.password === '' ? undefined : decode(parsed.password, 'password'),
    options: [...parsed.searchParams.entries()],
  };
}

/** `host[:port];key=value;…` with `{…}`-quoted values. */
function parseJdbcStyle(rest: string): RawParts {
  const [hostPort = '', ...pairs] = splitJdbc(rest);
  const match = HOST_PORT.exec(hostPort);
  if (!match) throw new MssqlUrlError('SQL Server URL has a malformed host:port');
  const options: [string, string][] = [];
  const props: Record<string, string> = {};
  for (const pair of pairs) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 1)
      throw new MssqlUrlError(
        `SQL Server URL property "${pair.split('=')[0]}" has no value (wrap a value that holds ";" in {…})`,
      );
    const key = pair.slice(0, eq).trim();
    const value = pair
      .slice(eq + 1)
      .trim()
      .replace(/^\{(.*)\}$/s, '$1');
    props[key.toLowerCase()] = value;
    options.push([key, value]);
  }
  return {
    host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'),
    port: match[2] === undefined ? undefined : integer(match[2], 'port', 1, 65_535),
    database: props.databasename ?? props.database,
    user: props.user ?? props.userid,
    password: props.password,
    options,
  };
}

/** Splits on `;` outside `{…}`. */
function splitJdbc(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let depth = 0;
  for (const ch of text) {
    if (ch === '{') depth++;
    if (ch === '}') depth = Math.max(0, depth - 1);
    if (ch === ';' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function decode(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new MssqlUrlError(`SQL Server URL ${what} is not valid percent-encoding`);
  }
}

function bool(value: string, key: string): boolean {
  const v = value.toLowerCase();
  if (['true', 'yes', '1'].includes(v)) return true;
  if (['false', 'no', '0'].includes(v)) return false;
  throw new MssqlUrlError(`SQL Server URL option ${key} must be true or false, got "${value}"`);
}

function integer(value: string, key: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new MssqlUrlError(
      `SQL Server URL ${key} must be an integer between ${min} and ${max}, got "${value}"`,
    );
  return n;
}
