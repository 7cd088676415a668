/**
 * The start-up connect loop against a local port nothing listens on (refused at once, so the test is fast):
 * one log line per failed attempt naming host, port, database and error code, exponential backoff, and one
 * clear error at the end instead of a crash loop. No SQL Server needed.
 */
import { createServer } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStores } from '../open-stores.ts';
import { errorSummary, MssqlConnectError, openMssql } from './connect.ts';

let closedPort: number;
beforeAll(async () => {
  // A port that was just free: bind it, note it, release it.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(() => vi.restoreAllMocks());

const FAST = { initialDelayMs: 40, maxDelayMs: 160 };
const url = () =>
  `mssql://sa:NotThePassword1@127.0.0.1:${closedPort}/orders?encrypt=false&connectTimeout=1000`;

function capture() {
  const lines: string[] = [];
  return { lines, logger: { warn: (line: string) => lines.push(line) } };
}

describe('openMssql connect retry', () => {
  it('logs one line per failed attempt, backs off exponentially, and gives up with one clear error', async () => {
    const consoleError = vi.spyOn(console, 'error');
    const { lines, logger } = capture();
    const started = Date.now();
    const error = await openMssql({ url: url(), logger, retry: { giveUpAfterMs: 700, ...FAST } }).then(
      () => expect.unreachable('connected to a closed port'),
      (e: unknown) => e as MssqlConnectError,
    );
    const elapsed = Date.now() - started;

    expect(error).toBeInstanceOf(MssqlConnectError);
    expect(error.message).toMatch(
      new RegExp(
        `^could not connect to SQL Server 127\\.0\\.0\\.1:${closedPort}/orders within 700 ms \\(\\d+ attempts\\); last error: ESOCKET \\(ECONNREFUSED\\): `,
      ),
    );
    expect(error.message).not.toContain('NotThePassword1');
    expect((error.cause as { code?: string }).code).toBe('ESOCKET');
    expect(lines).toHaveLength(error.attempts);
    expect(error.attempts).toBeGreaterThanOrEqual(4);
    for (const [i, line] of lines.entries()) {
      expect(line).toMatch(
        new RegExp(
          `^\\[mssql\\] connect attempt ${i + 1} to 127\\.0\\.0\\.1:${closedPort}/orders failed: ESOCKET \\(ECONNREFUSED\\): .*; ` +
            (i === lines.length - 1 ? 'giving up$' : 'retrying in \\d+ ms$'),
        ),
      );
    }
    // Backoff 40, 80, 160, 160, … (the last wait may be cut to the time left).
    const waits = lines.slice(0, -1).map((line) => Number(/retrying in (\d+) ms/.exec(line)?.[1]));
    expect(waits.slice(0, 3)).toEqual([40, 80, 160]);
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(160);
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(5_000);
    // Our own pool: drizzle's AutoPool would have printed a stack trace per attempt.
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('makes a single attempt when giveUpAfterMs is 0', async () => {
    const { lines, logger } = capture();
    await expect(openMssql({ url: url(), logger, retry: { giveUpAfterMs: 0 } })).rejects.toMatchObject({
      name: 'MssqlConnectError',
      attempts: 1,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/giving up$/);
  });

  it('stops waiting when its signal aborts (shutdown during start-up)', async () => {
    const { lines, logger } = capture();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = Date.now();
    await expect(
      openMssql({
        url: url(),
        logger,
        signal: controller.signal,
        retry: { giveUpAfterMs: 60_000, initialDelayMs: 10_000 },
      }),
    ).rejects.toThrow(/was aborted after 1 attempts/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lines).toHaveLength(1);
  });

  it('rejects a bad URL before trying to connect', async () => {
    await expect(openMssql({ url: 'mssql://127.0.0.1:1' })).rejects.toThrow(/names no database/);
  });

  it('openStores names the service and the (redacted) URL when SQL Server never comes', async () => {
    const consoleError = vi.spyOn(console, 'error');
    const { lines, logger } = capture();
    await expect(
      openStores(['orders'], () => ({ dialect: 'mssql', url: url() }), {
        logger,
        connectRetry: { giveUpAfterMs: 100, ...FAST },
      }),
    ).rejects.toThrow(
      new RegExp(
        `^orders: SQL Server mssql://sa:\\*\\*\\*@127\\.0\\.0\\.1:${closedPort}/orders\\?encrypt=false&connectTimeout=1000: could not connect`,
      ),
    );
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(consoleError).not.toHaveBeenCalled();
  });
});

describe('errorSummary', () => {
  it('puts the driver code first and the codes underneath in parentheses, on one line', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const tedious = Object.assign(new Error('Failed to connect'), {
      code: 'ESOCKET',
      cause: new AggregateError([socket], 'x'),
    });
    const driver = Object.assign(new Error('Failed to connect\n  to host'), {
      code: 'ESOCKET',
      originalError: tedious,
    });
    expect(errorSummary(driver)).toBe('ESOCKET (ECONNREFUSED): Failed to connect to host');
    expect(errorSummary(new Error('plain'))).toBe('plain');
    expect(errorSummary('text')).toBe('text');
  });
});
