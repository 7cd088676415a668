/**
 * A short chaos run (about 30 s of load, SIGKILLs of functions and the broker, then the invariants) against
 * the PostgreSQL server `DATABASE_URL` points at, in a database of its own. The long run: chaos/README.md.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './harness.ts';
import { parseChaosArgs } from './options.ts';

const url = process.env.DATABASE_URL;
const usable = url !== undefined && /^postgres(ql)?:\/\//i.test(url);
if (!usable) {
  const reason = url === undefined ? 'DATABASE_URL is not set' : 'DATABASE_URL is not a postgres:// URL';
  console.log(`[skipped] chaos harness (short run): ${reason}`);
}

describe.skipIf(!usable)('chaos harness, short run', () => {
  it('keeps every invariant through SIGKILLs of function processes and the broker', async () => {
    const options = parseChaosArgs(
      ['--scenario', 'kills', '--duration', '30', '--seed', '20261201', '--kill-every', '4'],
      { DATABASE_URL: url },
    );
    if (options === 'help') throw new Error('unreachable');
    const report = await runChaos(options, () => {});
    console.log(report.summary);
    expect(report.figures.kills.length).toBeGreaterThanOrEqual(3);
    expect(report.figures.killsByKind.broker).toBeGreaterThanOrEqual(1);
    expect(report.findings).toEqual([]);
    expect(report.pass).toBe(true);
  }, 360_000);
});
