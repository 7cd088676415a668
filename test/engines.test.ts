/**
 * Every installed package supports every Node.js line the project's `engines` field promises: a dependency
 * whose own `engines.node` excludes one of them (npm only warns, EBADENGINE) is caught here, not by a user.
 * Checked at the lowest version of each range of ours, from package-lock.json (what `npm ci` installs).
 * @module
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const ours: string = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).engines.node;
const lock: { packages: Record<string, { engines?: { node?: string } | string[] }> } = JSON.parse(
  readFileSync(new URL('package-lock.json', root), 'utf8'),
);

/** The lowest version of each `||` range of ours, e.g. 20.19.0 for `^20.19.0`. */
const lowest = ours.split('||').map((range) => semver.minVersion(range.trim())!.version);

describe('engines', () => {
  it('names at least Node 20, which the machines run', () => {
    expect(lowest.some((version) => semver.major(version) === 20)).toBe(true);
  });

  it.each(lowest)('every package in package-lock.json supports Node %s', (version) => {
    const refusing = Object.entries(lock.packages)
      .map(([path, info]) => ({ path, range: Array.isArray(info.engines) ? undefined : info.engines?.node }))
      .filter(
        ({ range }) => range !== undefined && !semver.satisfies(version, range, { includePrerelease: true }),
      )
      .map(({ path, range }) => `${path.replace(/^node_modules\//, '')} (${range})`);
    expect(refusing).toEqual([]);
  });
});
