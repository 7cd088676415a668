/**
 * `npm run build`: the deployable bundles.
 *
 *   dist/main.js      the container entry point (app/main.ts: serve <id…|all>, migrate, topics)
 *   dist/gateway.js   the gateway (app/gateway-main.ts)
 *   dist/migrations/  drizzle-kit migrations (db/migrations), found by db/migrations-root.ts at ./migrations
 *   dist/*.wasm, dist/pglite.data  PGlite's runtime files (it loads them from next to the code that runs it)
 *
 * ESM for Node 20 with sourcemaps. Everything is bundled (no node_modules at run time); CJS dependencies
 * (pino, kafkajs, mssql, pg) call `require`, hence the createRequire banner.
 * @module
 */
import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');

/** The bundles: output name → entry source. */
export const ENTRY_POINTS = { main: 'app/main.ts', gateway: 'app/gateway-main.ts' } as const;

const BANNER = [
  "import { createRequire as __orderflowCreateRequire } from 'node:module';",
  'const require = __orderflowCreateRequire(import.meta.url);',
].join('\n');

/** Files PGlite fetches with `new URL('./<file>', import.meta.url)`; in a bundle that URL is the bundle's. */
const PGLITE_ASSETS = ['pglite.wasm', 'pglite.data', 'initdb.wasm'];

async function main(): Promise<void> {
  const started = performance.now();
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  // One self-contained file per entry (no code splitting): the gateway image path stays small, and every
  // module's `import.meta.url` is the bundle's own, which the asset and migration lookups rely on.
  const results = await Promise.all(
    Object.entries(ENTRY_POINTS).map(([name, entry]) =>
      build({
        absWorkingDir: root,
        entryPoints: [entry],
        outfile: join(outdir, `${name}.js`),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        // Minified (less to parse at cold start) with names kept (error and class names show in logs);
        // the map carries mappings only, no copies of the sources, so `--enable-source-maps` loads it fast.
        minify: true,
        keepNames: true,
        sourcemap: 'linked',
        sourcesContent: false,
        legalComments: 'linked',
        banner: { js: BANNER },
        metafile: true,
        logLevel: 'warning',
      }),
    ),
  );
  const pgliteDist = join(root, 'node_modules/@electric-sql/pglite/dist');
  await Promise.all(PGLITE_ASSETS.map((file) => cp(join(pgliteDist, file), join(outdir, file))));
  await cp(join(root, 'db/migrations'), join(outdir, 'migrations'), { recursive: true });

  const lines: string[] = [];
  const outputs = results.flatMap((result) => Object.entries(result.metafile.outputs));
  for (const [file, output] of outputs) {
    if (file.endsWith('.map')) continue;
    lines.push(`  ${relative(root, file).padEnd(40)} ${kib(output.bytes)}`);
  }
  for (const file of PGLITE_ASSETS)
    lines.push(`  ${`dist/${file}`.padEnd(40)} ${kib((await stat(join(outdir, file))).size)}`);
  process.stdout.write(`built in ${Math.round(performance.now() - started)} ms\n${lines.join('\n')}\n`);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0).padStart(6)} KiB`;
}

main().catch((error: unknown) => {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
