/**
 * The deployable bundle to cold-start: `--bundle <path>` (e.g. `dist/main.js` from `npm run build`), or one
 * built here by the same code as `npm run build` (`scripts/build.ts`), into a temp directory so that `dist/`
 * is never touched.
 * @module
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from '../../scripts/build.ts';

export async function ensureBundle(path: string | undefined): Promise<{ main: string; built: boolean }> {
  if (path !== undefined) {
    if (!existsSync(path)) throw new Error(`--bundle ${path}: no such file (run npm run build)`);
    return { main: path, built: false };
  }
  const { outdir } = await buildBundles({ outdir: mkdtempSync(join(tmpdir(), 'orderflow-bench-bundle-')) });
  return { main: join(outdir, 'main.js'), built: true };
}
