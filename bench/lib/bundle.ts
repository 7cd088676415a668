/**
 * The deployable bundle to cold-start: `--bundle <path>` (e.g. `dist/main.js` from `npm run build`), or one
 * built here with esbuild into a temp directory the way `npm run build` builds `dist/main.js` (ESM, minified,
 * createRequire banner; PGlite's runtime files and the migrations beside it).
 * @module
 */
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from './processes.ts';

const BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

export async function ensureBundle(path: string | undefined): Promise<{ main: string; built: boolean }> {
  if (path !== undefined) {
    if (!existsSync(path)) throw new Error(`--bundle ${path}: no such file (run npm run build)`);
    return { main: path, built: false };
  }
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-bench-bundle-'));
  const main = join(dir, 'main.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['app/main.ts'],
    outfile: main,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    keepNames: true,
    banner: { js: BANNER },
    logLevel: 'warning',
  });
  const pglite = join(ROOT, 'node_modules/@electric-sql/pglite/dist');
  for (const file of ['pglite.wasm', 'pglite.data', 'initdb.wasm'])
    cpSync(join(pglite, file), join(dir, file));
  cpSync(join(ROOT, 'db/migrations'), join(dir, 'migrations'), { recursive: true });
  return { main, built: true };
}
