/**
 * A database URL of any shape, valid or not, never shows its password: not in the configuration error, not
 * in the SQL Server URL parser's errors, not in connect errors (their causes included) or the lines logged
 * while retrying, not in `/readyz`. Every shape goes through every one of those paths for real: hosts are
 * 127.0.0.1:1, where nothing listens, so each connect fails at once.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ConfigError, databaseTarget, loadConfig } from '../runtime/config.ts';
import { createHttpApp } from '../runtime/http/app.ts';
import type { RuntimeEnv } from '../runtime/invoke.ts';
import { createSilentLogger } from '../runtime/logger.ts';
import { openMssql } from './mssql/connect.ts';
import { isMssqlUrl, parseMssqlUrl } from './mssql/url.ts';
import { openStores } from './open-stores.ts';
import { isPostgresUrl, openPostgres } from './postgres/connect.ts';

/** [shape, URL, the texts that must never appear: the password and each piece a parser might split off]. */
const SHAPES: [string, string, string[]][] = [
  ['JDBC style, no database', 'sqlserver://127.0.0.1:1;user=sa;password=JdbcPw1', ['JdbcPw1']],
  [
    'JDBC style with a {braced} password holding ; and }}',
    'sqlserver://127.0.0.1:1;databaseName=orders;user=sa;password={Brace;Pw2}}x};encrypt=false',
    ['Brace', 'Pw2}'],
  ],
  [
    'JDBC style with an unbraced ; in the password',
    'sqlserver://127.0.0.1:1;databaseName=orders;user=sa;password=Semi1;Colon2',
    ['Semi1', 'Colon2'],
  ],
  [
    'jdbc:sqlserver:// prefix',
    'jdbc:sqlserver://127.0.0.1:1;databaseName=orders;user=sa;password=JdbcPrefix3',
    ['JdbcPrefix3'],
  ],
  ['user:pass@host/db without a scheme', 'sa:NoScheme4@127.0.0.1:1/orders', ['NoScheme4']],
  [
    'ADO.NET style',
    'Server=tcp:127.0.0.1,1;Database=orders;User ID=sa;Password=AdoNet5;Encrypt=false',
    ['AdoNet5'],
  ],
  ['postgres:// with a port that is not a number', 'postgres://u:PgPort6@127.0.0.1:x/db', ['PgPort6']],
  ['postgres:// with an unclosed IPv6 host', 'postgres://u:PgIpv6x7@[::1/db', ['PgIpv6x7']],
  ['postgres:// that parses (the server is not there)', 'postgres://u:PgFine8@127.0.0.1:1/db', ['PgFine8']],
  [
    'postgres:// with an unencoded @ in the password',
    'postgresql://u:PgAt9@Tail9@127.0.0.1:1/db',
    ['PgAt9', 'Tail9'],
  ],
  ['postgres missing its colon', 'postgres//u:NoColon10@127.0.0.1:1/db', ['NoColon10']],
  ['mysql://', 'mysql://admin:MySql11@db/orders', ['MySql11']],
  ['mssql:// with an unknown option', 'mssql://sa:BadOpt12@127.0.0.1:1/orders?badopt=1', ['BadOpt12']],
  [
    'mssql:// with @ : ; { } unencoded in the password',
    'mssql://sa:Odd13@Odd14:w;rd{x}@127.0.0.1:1/orders?encrypt=false',
    ['Odd13', 'Odd14'],
  ],
  ['mssql:// with an unencoded / in the password', 'mssql://sa:12/Slash15@127.0.0.1:1/orders', ['Slash15']],
  ['mssql:// with an unencoded ? in the password', 'mssql://sa:12?Query16=1@127.0.0.1:1/orders', ['Query16']],
  [
    'mssql:// percent-encoded (the decoded password is what the driver gets)',
    'mssql://sa:Pct17%40%3Bx%7D@127.0.0.1:1/orders?encrypt=false',
    ['Pct17'],
  ],
  ['mssql:// with bad percent-encoding', 'mssql://sa:BadPct18%ZZ@127.0.0.1:1/orders', ['BadPct18']],
  [
    'sqlserver:// that parses (the server is not there)',
    'sqlserver://sa:MsFine19@127.0.0.1:1/orders?encrypt=false&connectTimeout=1000',
    ['MsFine19'],
  ],
];

const VARIABLES = [
  ['DATABASE_URL', 'orders'],
  ['ORDERS_DATABASE_URL', 'orders'],
  ['PAYMENTS_DATABASE_URL', 'payments'],
] as const;

/** The message, stack and every cause / mssql `originalError` / AggregateError member under an error. */
function texts(error: unknown, depth = 0): string[] {
  if (depth > 6 || error === undefined || error === null) return [];
  if (!(error instanceof Error)) return [String(error)];
  const e = error as Error & { originalError?: unknown; errors?: unknown };
  return [
    e.message,
    e.stack ?? '',
    ...texts(e.cause, depth + 1),
    ...texts(e.originalError, depth + 1),
    ...(Array.isArray(e.errors) ? e.errors.flatMap((inner) => texts(inner, depth + 1)) : []),
  ];
}

function expectNoSecret(produced: readonly string[], secrets: readonly string[]) {
  expect(produced.length).toBeGreaterThan(0);
  for (const text of produced) for (const secret of secrets) expect(text).not.toContain(secret);
}

const capture = () => {
  const lines: string[] = [];
  return { lines, logger: { warn: (line: string) => lines.push(line) } };
};

describe.each(SHAPES)('a database URL, %s', (_shape, url, secrets) => {
  it.each(VARIABLES)('is not echoed with its password by the configuration (%s)', (variable) => {
    let produced: string[] = [];
    try {
      loadConfig({ [variable]: url });
      produced = ['(accepted)'];
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      produced = texts(error);
    }
    expectNoSecret(produced, secrets);
  });

  it.each(VARIABLES)(
    'is not echoed with its password when its service opens it (%s)',
    async (variable, service) => {
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig({ [variable]: url });
      } catch {
        return; // rejected by the configuration: that message is checked above
      }
      const { lines, logger } = capture();
      const error = await openStores([service], (s) => databaseTarget(config, s), {
        logger,
        connectRetry: { giveUpAfterMs: 0 },
      }).then(
        (opened) => opened.close().then(() => new Error('opened')),
        (e: unknown) => e,
      );
      expectNoSecret([...texts(error), ...lines], secrets);
    },
    20_000,
  );

  it.runIf(isMssqlUrl(url))('is not echoed by the SQL Server URL parser or connect', async () => {
    const produced: string[] = [];
    try {
      parseMssqlUrl(url);
    } catch (error) {
      produced.push(...texts(error));
    }
    const { lines, logger } = capture();
    await openMssql({ url, logger, retry: { giveUpAfterMs: 0 } }).then(
      (db) => db.close(),
      (error: unknown) => produced.push(...texts(error)),
    );
    expectNoSecret([...produced, ...lines], secrets);
  });

  it.runIf(isPostgresUrl(url))('is not echoed by openPostgres or the first query', async () => {
    const produced: string[] = [];
    try {
      const db = await openPostgres({ url });
      await db.db.execute(sql`select 1`).catch((error: unknown) => produced.push(...texts(error)));
      await db.close();
    } catch (error) {
      produced.push(...texts(error));
    }
    expectNoSecret(produced, secrets);
  });
});

describe('/readyz', () => {
  const env = (ping: () => Promise<void>) =>
    ({
      stores: { orders: { ping } },
      ports: {},
      clock: () => new Date(),
      logger: createSilentLogger(),
    }) as unknown as RuntimeEnv;

  it.each(SHAPES)(
    'shows no password when a store ping fails with a message quoting the URL (%s)',
    async (_shape, url, secrets) => {
      const app = createHttpApp({
        functions: [],
        env: env(() => Promise.reject(new Error(`cannot reach ${url}: connection refused`))),
      });
      const res = await app.request('/readyz');
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(body).toContain('connection refused');
      expectNoSecret([body], secrets);
    },
  );

  it('shows no password when a readiness probe throws one', async () => {
    const url = 'sqlserver://127.0.0.1:1;user=sa;password=Probe20';
    const app = createHttpApp({
      functions: [],
      env: env(() => Promise.resolve()),
      readiness: () => Promise.reject(new Error(`probe of ${url} crashed`)),
    });
    const body = await (await app.request('/readyz')).text();
    expect(body).toContain('crashed');
    expectNoSecret([body], ['Probe20']);
  });
});
