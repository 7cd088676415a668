/**
 * Smoke test of `npm run bench`: the script runs its end-to-end phase with one-second loads (orchestrator, a
 * system under test in its own process, both load generators, the observer, the per-hop breakdown, the
 * integrity check, table and JSON). The other phases start more systems (PGlite's initdb each) and are left
 * to real runs. Checks shape and integrity, never speed. Beside it: the report renders a full results object
 * with no placeholder left, and a load that measured nothing fails instead of printing 0.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closedLoopPosts } from './lib/load.ts';
import { NothingMeasuredError, requireAnswered, requireDone } from './lib/measured.ts';
import { parseOptions } from './lib/options.ts';
import { childEnv } from './lib/processes.ts';
import { fullResults } from './lib/report.fixture.ts';
import { type BenchResults, renderTable } from './lib/report.ts';
import { describeEventLoad, describeGetLoad } from './phases/coldstart.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench', () => {
  it('runs its phases end to end and writes the figures as JSON', () => {
    const out = join(dir, 'smoke.json');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--phases',
        'e2e',
        '--duration',
        '1',
        '--warmup',
        '0.5',
        '--connections',
        '4',
        '--log-level',
        'warn',
        '--database',
        'pglite',
        '--out',
        out,
      ],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 170_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/E2E closed loop/);
    expect(run.stdout).not.toMatch(/\$/);
    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.errors).toEqual({});
    expect(results.machine.cores).toBeGreaterThan(0);
    const e2e = results.engines.pglite!.e2e!;
    expect(e2e.integrity.ok).toBe(true);
    expect(e2e.closed.terminal.terminal).toBe(e2e.closed.terminal.created);
    expect(e2e.closed.http.rps).toBeGreaterThan(0);
    expect(e2e.open.terminal.latency.count).toBeGreaterThan(0);
    expect(e2e.open.hops.orders).toBeGreaterThan(0);
    expect(e2e.open.hops.hops.paymentRow.count).toBe(e2e.open.hops.orders);
  }, 180_000);
});

describe('the report', () => {
  it('renders every figure of a full results object, both engines side by side, no placeholder left', () => {
    const table = renderTable(fullResults());
    expect(table).not.toMatch(/\$/);
    expect(table).not.toMatch(/undefined|NaN/);
    expect(table).toMatch(/PGlite\s+│\s+PostgreSQL/);
    for (const row of [
      'HTTP same-work Hono',
      'create-order ÷ same work (runtime)',
      'same work ÷ bare (guarantees)',
      'process-payment ÷ same work (runtime)',
      'POST→PaymentRequested published',
      'PaymentCompleted→order PAID',
      'cold start get-order',
      'to first /healthz 200',
      'tracing create-order',
    ])
      expect(table).toContain(row);
    expect(table).toContain('10 s of closed-loop GET /orders/cold-1, 16 connections: 2100 req/s');
  });

  it("describes the cold-start RSS loads with their figures, not the template's names", () => {
    const get = describeGetLoad(10, '/orders/cold-1', {
      rps: 2100,
      requests: 21_000,
      statuses: { '2xx': 21_000 },
    });
    expect(get).toBe('10 s of closed-loop GET /orders/cold-1, 16 connections: 2100 req/s');
    expect(describeGetLoad(0.5, '/orders/x', { rps: 0, requests: 4, statuses: { '4xx': 4 } })).toMatch(
      /0 req\/s \(\{"4xx":4\}\)$/,
    );
    expect(describeEventLoad(10, 5000)).toBe(
      '10 s of PaymentRequested events offered at 500/s (5000 events)',
    );
  });

  it('lists failed phases by engine', () => {
    const results = {
      ...fullResults(),
      errors: { 'postgres http': 'NothingMeasuredError: http x: no 2xx answer\n  at …' },
    };
    expect(renderTable(results)).toMatch(
      /^postgres http FAILED\s+NothingMeasuredError: http x: no 2xx answer$/m,
    );
  });
});

describe('a load that measured nothing', () => {
  it('counts only 2xx answers in the rate, and fails instead of printing 0', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const load = await closedLoopPosts({
        url: `http://127.0.0.1:${port}`,
        path: '/orders',
        connections: 2,
        durationS: 0.3,
        idPrefix: 'z',
        amount: 50,
      });
      expect(load.requests).toBeGreaterThan(0);
      expect(load.statuses['5xx']).toBe(load.requests);
      expect(load.rps).toBe(0);
      // Ends within a sample of its duration (autocannon's default 1 s sample ran a 0.3 s load a whole second).
      expect(load.durationS).toBeLessThan(0.8);
      expect(() => requireAnswered('http test', load)).toThrow(NothingMeasuredError);
    } finally {
      server.close();
    }
  });

  it('waits for the requests a load left in flight, so the next load is not paying for them', async () => {
    // One request at a time, 100 ms each, like writes serialised on PGlite's one connection; work that
    // was read is done even when its client has gone.
    let queue = Promise.resolve();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        queue = queue.then(async () => {
          await new Promise((r) => setTimeout(r, 100));
          if (!res.destroyed) {
            res.writeHead(201);
            res.end();
          }
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const load = {
        url: `http://127.0.0.1:${port}`,
        path: '/orders',
        connections: 8,
        durationS: 0.25,
        amount: 50,
      };
      await closedLoopPosts({ ...load, idPrefix: 'first' });
      // Left alone, the first load's backlog (about 6 × 100 ms) would outlast the whole second load.
      const second = await closedLoopPosts({ ...load, idPrefix: 'second' });
      expect(second.statuses['2xx']).toBeGreaterThan(0);
      expect(second.rps).toBeGreaterThan(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('fails a drain with no message done', () => {
    expect(() => requireDone('messaging test', { messages: 0, ms: 0 })).toThrow(/0 messages done/);
    expect(() => requireDone('messaging test', { messages: 10, ms: 5 })).not.toThrow();
  });
});

describe('bench options', () => {
  it('runs both engines when DATABASE_URL is set, one with --database', () => {
    const url = 'postgres://u@h:5432/d';
    expect(parseOptions([], { DATABASE_URL: url }).engines).toEqual(['pglite', 'postgres']);
    expect(parseOptions(['--database', 'both'], {}).postgresUrl).toMatch(/^postgres:/);
    expect(parseOptions(['--database', 'postgres'], { DATABASE_URL: url }).engines).toEqual(['postgres']);
    expect(parseOptions([], {}).engines).toEqual(['pglite']);
    expect(() => parseOptions(['--database', 'mysql'], {})).toThrow(/pglite, postgres or both/);
  });

  it("keeps the orchestrator's DATABASE_URL away from a PGlite child", () => {
    const before = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://u@h:5432/d';
    try {
      expect(childEnv({ DATA_DIR: '/tmp/x' })).toMatchObject({ DATA_DIR: '/tmp/x' });
      expect(childEnv()).not.toHaveProperty('DATABASE_URL');
      expect(childEnv({ DATABASE_URL: 'postgres://v@h/e' }).DATABASE_URL).toBe('postgres://v@h/e');
    } finally {
      if (before === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = before;
    }
  });
});
