/**
 * The deployable bundle to cold-start: `--bundle <path>` (e.g. `dist/main.js` from `npm run build`), or the
 * one built by the same code as `npm run build` (`scripts/build.ts`) into a cache in the temp directory
 * (`dist/` is never touched). The cache records a hash of every file the bundle was made from (sources,
 * dependencies, migrations, PGlite's assets) and is rebuilt when any of them changed.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from '../../scripts/build.ts';
import { ROOT } from './processes.ts';

const CACHE = join(tmpdir(), 'orderflow-bench-bundle');
const MANIFEST = 'inputs.json';

export interface Bundle {
  main: string;
  /** How it was obtained: given, built now, or reused from the cache. */
  source: 'given' | 'built' | 'cached';
}

export async function ensureBundle(path: string | undefined): Promise<Bundle> {
  if (path !== undefined) {
    if (!existsSync(path)) throw new Error(`--bundle ${path}: no such file (run npm run build)`);
    return { main: path, source: 'given' };
  }
  if (upToDate(CACHE)) return { main: join(CACHE, 'main.js'), source: 'cached' };
  const temp = mkdtempSync(join(tmpdir(), 'orderflow-bench-bundle-'));
  const { inputs } = await buildBundles({ outdir: temp });
  writeFileSync(join(temp, MANIFEST), JSON.stringify(Object.fromEntries(inputs.map((f) => [f, hash(f)]))));
  rmSync(CACHE, { recursive: true, force: true });
  try {
    renameSync(temp, CACHE);
  } catch {
    // Another bench run put its bundle there first: use ours from where it is (and leave it in tmp).
    return { main: join(temp, 'main.js'), source: 'built' };
  }
  return { main: join(CACHE, 'main.js'), source: 'built' };
}

function upToDate(dir: string): boolean {
  try {
    const inputs = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Record<string, string>;
    return (
      existsSync(join(dir, 'main.js')) &&
      Object.entries(inputs).every(([file, digest]) => hash(file) === digest)
    );
  } catch {
    return false;
  }
}

function hash(file: string): string {
  try {
    return createHash('sha256')
      .update(readFileSync(join(ROOT, file)))
      .digest('hex');
  } catch {
    return 'missing';
  }
}
