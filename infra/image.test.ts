/**
 * infra/Dockerfile, package.json `engines` and package-lock.json: the image runs a supported Node.js line that
 * `engines` names, the code keeps the line the development machines and CI run (this process's), and both the
 * image and CI install with `npm ci` from a lock file that any platform can install from.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const dockerfile = read('./Dockerfile');
const ciRun = read('../.ci/run');
const pkg = JSON.parse(read('../package.json')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
interface LockedPackage {
  version?: string;
  optionalDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines?: { node?: string };
}
const lock = JSON.parse(read('../package-lock.json')) as { packages: Record<string, LockedPackage> };

type Version = [number, number, number];
const parseVersion = (text: string): Version => {
  const [major = 0, minor = 0, patch = 0] = text.replace(/^v/, '').split('.').map(Number);
  return [major, minor, patch];
};

/** `engines.node` as its caret ranges: `^20.19.0 || ^22.13.0 || …` → the lowest version of each line. */
function engineLines(range: string): Version[] {
  return range.split('||').map((part) => {
    const match = /^\s*\^(\d+\.\d+\.\d+)\s*$/.exec(part);
    if (match === null)
      throw new Error(`engines.node: expected ^major.minor.patch alternatives, got "${part}"`);
    return parseVersion(match[1]!);
  });
}

function admits(range: string, version: string): boolean {
  const [major, minor, patch] = parseVersion(version);
  return engineLines(range).some(([m, n, p]) => m === major && (minor > n || (minor === n && patch >= p)));
}

describe('infra/Dockerfile: Node.js', () => {
  const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  const imageMajor = Number(/^node:(\d+)-slim$/.exec(nodeImage ?? '')?.[1]);

  it('builds and runs on one official slim image of an LTS line (an even major)', () => {
    expect(nodeImage).toMatch(/^node:\d+-slim$/);
    expect(imageMajor % 2).toBe(0);
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)$/gm)].map((m) => [m[1], m[2]]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ARG syntax
    const arg = '${NODE_IMAGE}';
    expect(stages).toEqual([
      [arg, 'build'],
      [arg, 'runtime'],
    ]);
  });

  it('runs the newest line package.json `engines` names, and `engines` still admits the Node.js here', () => {
    const lines = engineLines(pkg.engines.node).map(([major]) => major);
    expect(Math.max(...lines)).toBe(imageMajor);
    // The development machines and CI run this process's Node.js: the code must keep working there.
    expect(admits(pkg.engines.node, process.version), `${pkg.engines.node} admits ${process.version}`).toBe(
      true,
    );
    expect(lock.packages['']?.engines?.node).toBe(pkg.engines.node);
  });

  it('installs with `npm ci` and keeps only dist/ in the runtime stage, run as the node user', () => {
    expect(dockerfile).toMatch(/^RUN .*\bnpm ci\b/m);
    expect(dockerfile).not.toMatch(/^RUN .*\bnpm (install|i)\b/m);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect([...runtime.matchAll(/^COPY .*$/gm)].map((m) => m[0])).toEqual([
      'COPY --from=build /src/dist ./dist',
    ]);
    expect(runtime).toMatch(/^USER node$/m);
  });
});

describe('npm ci from a fresh clone', () => {
  it('is what CI runs', () => {
    expect(ciRun).toMatch(/^npm ci\b/m);
    expect(ciRun).not.toMatch(/^npm install\b/m);
  });

  it('locks every dependency of package.json at the version it names', () => {
    const root = lock.packages['']!;
    expect(root.dependencies).toEqual(pkg.dependencies);
    expect(root.devDependencies).toEqual(pkg.devDependencies);
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
  });

  it('lists every optional (platform) package, so that npm ci accepts the lock on any machine', () => {
    // A lock written on one platform by some npm versions drops the other platforms' optional packages
    // (e.g. @biomejs/cli-darwin-arm64); `npm ci` then fails with EUSAGE on every fresh clone.
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolves(path, name)) missing.push(`${path || '(root)'} → ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

/** Node's lookup: `<path>/node_modules/<name>`, then each enclosing node_modules up to the root. */
function resolves(from: string, name: string): boolean {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return true;
    if (base === '') return false;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}
