/**
 * Smoke test of `npm run bench`: the script runs its end-to-end phase with one-second loads (orchestrator, a
 * system under test in its own process, both load generators, the observer, the integrity check, table and
 * JSON). The other phases start four more systems (PGlite's initdb each) and are left to real runs.
 * Checks shape and integrity, never speed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from './lib/report.ts';

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
        '--out',
        out,
      ],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 170_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/E2E closed loop/);
    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.errors).toEqual({});
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.e2e!.integrity.ok).toBe(true);
    expect(results.e2e!.closed.terminal.terminal).toBe(results.e2e!.closed.terminal.created);
    expect(results.e2e!.open.terminal.latency.count).toBeGreaterThan(0);
  }, 180_000);
});
