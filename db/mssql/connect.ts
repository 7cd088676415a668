/**
 * Opening SQL Server: our own `mssql.ConnectionPool` (never drizzle's `AutoPool`, which prints a stack trace
 * to `console.error` on every failed connect), connected at start-up by a retry loop with exponential backoff.
 * Each failed attempt logs one line naming host, port, database and the driver's error code; after
 * `giveUpAfterMs` the loop stops with one `MssqlConnectError`, so a process whose database is not there
 * yet waits for it, and one whose database never comes fails with a clear message instead of a crash loop.
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { MsSqlDatabase } from 'drizzle-orm/mssql-core';
import { drizzle } from 'drizzle-orm/node-mssql';
import type { NodeMsSqlPreparedQueryHKT, NodeMsSqlQueryResultHKT } from 'drizzle-orm/node-mssql/session';
import mssql from 'mssql';
import { redactText } from '../../runtime/redact.ts';
import { describeTarget, type MssqlUrl, parseMssqlUrl, toPoolConfig } from './url.ts';

/** A drizzle SQL Server database or transaction. Query functions take this first. */
export type MssqlDb = MsSqlDatabase<NodeMsSqlQueryResultHKT, NodeMsSqlPreparedQueryHKT>;

/** An open, connected database and how to close it. */
export interface MssqlDatabase {
  readonly db: MssqlDb;
  readonly driver: 'mssql';
  readonly pool: mssql.ConnectionPool;
  /** The pool's configuration (migrations open a one-connection pool from it). */
  readonly config: mssql.config;
  /** `host:port/database`, for log lines. */
  readonly target: string;
  /** Closes the pool. Safe to call more than once. */
  close(): Promise<void>;
}

/** Where log lines go: a pino logger or `console` both fit. */
export interface ConnectLogger {
  warn(message: string): void;
}

export interface ConnectRetryOptions {
  /** Stop retrying once this much time has passed since the first attempt (default 60 000 ms). */
  giveUpAfterMs?: number;
  /** Wait after the first failure; doubles after each further one (default 250 ms). */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 5 000 ms). */
  maxDelayMs?: number;
}

export interface OpenMssqlOptions {
  /** `mssql://` or `sqlserver://` URL (forms: `url.ts`). */
  url: string;
  /** Largest number of pooled connections (default: the URL's `poolMax`, else 10). */
  maxConnections?: number;
  /** Timeout of one connection attempt (default: the URL's `connectTimeout`, else 15 000 ms). */
  connectTimeoutMs?: number;
  retry?: ConnectRetryOptions;
  /** One line per failed attempt (default `console`). */
  logger?: ConnectLogger;
  /** Abandons the retry loop (e.g. on SIGTERM during start-up). */
  signal?: AbortSignal;
  /** Errors of idle pooled connections (server restart, network). Default: ignore; the next query reconnects or fails. */
  onPoolError?: (error: Error) => void;
}

/** The database did not become reachable in time. `cause` is the last driver error. */
export class MssqlConnectError extends Error {
  override name = 'MssqlConnectError';
  constructor(
    message: string,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Connects a pool to the database `url` names, retrying as configured, and wraps it in drizzle.
 * @example
 * const conn = await openMssql({ url: process.env.DATABASE_URL!, logger });
 * const orders = createOrdersStore(conn);
 */
export async function openMssql(options: OpenMssqlOptions): Promise<MssqlDatabase> {
  const target = parseMssqlUrl(options.url);
  const config = toPoolConfig(target, {
    ...(options.maxConnections !== undefined ? { poolMax: options.maxConnections } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
  });
  const pool = await connectWithRetry(config, target, options);
  pool.on('error', options.onPoolError ?? (() => {}));
  return fromPool(pool, config, describeTarget(target));
}

/** Wraps an already connected pool (tests, or a pool built elsewhere). */
export function fromPool(pool: mssql.ConnectionPool, config: mssql.config, target: string): MssqlDatabase {
  let closing: Promise<void> | undefined;
  return {
    db: drizzle({ client: pool }),
    driver: 'mssql',
    pool,
    config,
    target,
    close: () => {
      closing ??= pool.close().then(() => {});
      return closing;
    },
  };
}

/**
 * Connects a new pool per attempt until one succeeds or the time is up. A fresh pool per attempt means a
 * half-initialised pool from a failed attempt is never reused.
 */
export async function connectWithRetry(
  config: mssql.config,
  target: Pick<MssqlUrl, 'host' | 'port' | 'database' | 'instanceName'>,
  options: Pick<OpenMssqlOptions, 'retry' | 'logger' | 'signal'> = {},
): Promise<mssql.ConnectionPool> {
  const giveUpAfterMs = options.retry?.giveUpAfterMs ?? 60_000;
  const initialDelayMs = options.retry?.initialDelayMs ?? 250;
  const maxDelayMs = options.retry?.maxDelayMs ?? 5_000;
  const logger = options.logger ?? console;
  const where = describeTarget(target);
  // The driver's messages do not quote the password today; this keeps it so whatever they quote.
  const summary = (error: unknown) => redactText(errorSummary(error), { secrets: [config.password] });
  const started = Date.now();
  let wait = initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    const pool = new mssql.ConnectionPool(config);
    pool.on('error', () => {}); // surfaced through connect()'s rejection below
    try {
      await pool.connect();
      return pool;
    } catch (error) {
      await pool.close().catch(() => {});
      const elapsed = Date.now() - started;
      const remaining = giveUpAfterMs - elapsed;
      const willRetry = remaining > 0 && options.signal?.aborted !== true;
      const pause = Math.min(wait, maxDelayMs, Math.max(0, remaining));
      logger.warn(
        `[mssql] connect attempt ${attempt} to ${where} failed: ${summary(error)}; ` +
          (willRetry ? `retrying in ${pause} ms` : 'giving up'),
      );
      if (!willRetry) {
        throw new MssqlConnectError(
          `could not connect to SQL Server ${where} within ${giveUpAfterMs} ms (${attempt} attempt${attempt === 1 ? '' : 's'}); last error: ${summary(error)}`,
          attempt,
          { cause: error },
        );
      }
      try {
        await delay(pause, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        throw new MssqlConnectError(
          `connecting to SQL Server ${where} was aborted after ${attempt} attempts`,
          attempt,
          {
            cause: error,
          },
        );
      }
      wait = Math.min(wait * 2, maxDelayMs);
    }
  }
}

/**
 * One line: the driver's code, the socket-level codes under it, the message:
 * `ESOCKET (ECONNREFUSED): Failed to connect to 127.0.0.1:1 - Could not connect (sequence)`.
 */
export function errorSummary(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const inner = [...new Set(nestedCodes(error))].filter((c) => c !== code);
  const label = [
    typeof code === 'string' ? code : undefined,
    inner.length > 0 ? `(${inner.join(', ')})` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(' ');
  const message = error.message.replace(/\s+/g, ' ').trim();
  return label === '' ? message : `${label}: ${message}`;
}

/** Codes of the errors under `error`: mssql's `originalError`, tedious' `cause`, an `AggregateError`'s `errors`. */
function nestedCodes(error: unknown, depth = 0): string[] {
  if (depth > 5 || typeof error !== 'object' || error === null) return [];
  const e = error as { originalError?: unknown; cause?: unknown; errors?: unknown; code?: unknown };
  const children = [e.originalError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return children.flatMap((child) => {
    const code = (child as { code?: unknown } | undefined)?.code;
    return [...(typeof code === 'string' ? [code] : []), ...nestedCodes(child, depth + 1)];
  });
}
