/**
 * `npm run build`: the deployable bundles.
 *
 *   dist/main.js         the container entry point (app/main.ts, app/commands.ts: serve <id…|all>, migrate, topics)
 *   dist/gateway.js      the gateway (app/gateway-main.ts)
 *   dist/migrations/     drizzle-kit migrations (db/migrations); db/migrations-root.ts finds them at ./migrations
 *   dist/pglite.wasm, pglite.data, initdb.wasm   PGlite's runtime files: it loads them relative to the code
 *                        that runs it, and in a bundle that is the bundle
 *   dist/package.json    `{"type":"module"}`, so dist/ runs wherever it is copied (the image holds only dist/)
 *
 *   dist/chunk-<hash>.js code the entries share or load on demand with `import()` (code splitting)
 *
 * ESM for Node 20, minified, with source maps (run with `node --enable-source-maps`). Every dependency is
 * bundled, so nothing stays external and no node_modules are needed at run time; the CJS ones (pino,
 * kafkajs, mssql, pg) call `require`, hence the createRequire banner (in every chunk).
 * @module
 */
import { cp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { SWAGGER_UI_ASSETS, swaggerUiDir } from '../runtime/http/api-docs.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The bundles: output name → entry source. */
export const ENTRY_POINTS = { main: 'app/main.ts', gateway: 'app/gateway-main.ts' } as const;

/** What `npm run build` reports the start-up code of (`BuildResult.upFront`). */
const STARTS = { 'main.js (a command)': 'app/commands.ts', 'gateway.js': 'app/gateway-main.ts' };

const BANNER = [
  "import { createRequire as __orderflowCreateRequire } from 'node:module';",
  'const require = __orderflowCreateRequire(import.meta.url);',
].join('\n');

/**
 * zod's `z` is a namespace object, so a bundle keeps all it re-exports, `z.locales` too: error messages in
 * some 50 languages, ~250 KiB that `serve` would parse at every cold start. Nothing here selects a locale
 * (zod configures English itself, importing `locales/en.js` directly), so the bundle's `z.locales` holds English only.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: 'js',
    }));
  },
};

/** Files PGlite fetches with `new URL('./<file>', import.meta.url)`. */
const PGLITE_ASSETS = ['pglite.wasm', 'pglite.data', 'initdb.wasm'];

export interface BuildResult {
  outdir: string;
  ms: number;
  /** Size in bytes of each file written, by path relative to `outdir` (maps and migrations left out). */
  sizes: Record<string, number>;
  /** Every file the output was made from, relative to the project root (for caches keyed on them). */
  inputs: string[];
  /**
   * Per module that starts a bundle or is loaded with `import()` (by source, e.g. `app/commands.ts`, what
   * `main.js` imports to run a command): what is loaded before it runs, its own output and the chunks that
   * imports statically, in bytes, and the source files they hold (dependencies as `node_modules/<package>/…`).
   */
  upFront: Record<string, { bytes: number; inputs: string[] }>;
}

/**
 * Builds every bundle into `outdir` (emptied first).
 * @example const { sizes } = await buildBundles({ outdir: 'dist' });
 */
export async function buildBundles(options: { outdir?: string } = {}): Promise<BuildResult> {
  const started = performance.now();
  const outdir = options.outdir ?? join(root, 'dist');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  // One build of every entry with code splitting: what an entry imports with `import()` (the dialect a
  // database URL picks, PGlite, the OpenTelemetry SDK, the ops CLI …) lands in a chunk of its own, loaded only
  // when a process takes that path, so `serve <function>` parses only the code it runs. Chunks sit beside the
  // entries (no subfolder): every module's `import.meta.url` then resolves to dist/, where the PGlite assets,
  // the migrations and Swagger UI are looked up.
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir,
    splitting: true,
    chunkNames: 'chunk-[hash]',
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
    plugins: [zodEnglishOnly],
    metafile: true,
    logLevel: 'warning',
  });
  await writeFile(join(outdir, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
  const pgliteDist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  await Promise.all(PGLITE_ASSETS.map((file) => cp(join(pgliteDist, file), join(outdir, file))));
  await cp(join(root, 'db/migrations'), join(outdir, 'migrations'), { recursive: true });
  // Swagger UI for /docs, read beside the bundle (runtime/http/api-docs.ts).
  await mkdir(join(outdir, 'swagger-ui'));
  await Promise.all(
    SWAGGER_UI_ASSETS.map((file) => cp(join(swaggerUiDir(), file), join(outdir, 'swagger-ui', file))),
  );

  const sizes: Record<string, number> = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('.map')) sizes[relative(outdir, join(root, file))] = output.bytes;
  }
  for (const file of PGLITE_ASSETS) sizes[file] = (await stat(join(outdir, file))).size;
  const upFront: BuildResult['upFront'] = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (output.entryPoint !== undefined) upFront[output.entryPoint] = loadedUpFront(result.metafile, file);
  }
  const inputs = new Set(['scripts/build.ts', 'package-lock.json']);
  for (const file of Object.keys(result.metafile.inputs)) inputs.add(file);
  for (const file of await readdir(join(root, 'db/migrations'), { recursive: true }))
    if ((await stat(join(root, 'db/migrations', file))).isFile()) inputs.add(join('db/migrations', file));
  for (const file of PGLITE_ASSETS) inputs.add(relative(root, join(pgliteDist, file)));
  return {
    outdir,
    ms: Math.round(performance.now() - started),
    sizes,
    inputs: [...inputs].sort(),
    upFront,
  };
}

/** The output `entry` and every chunk it imports statically (transitively): their bytes and source files. */
function loadedUpFront(metafile: Metafile, entry: string): { bytes: number; inputs: string[] } {
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? [])
      if (imported.kind === 'import-statement' && !imported.external) pending.push(imported.path);
  }
  const files = [...seen];
  const inputs = files.flatMap((file) => Object.keys(metafile.outputs[file]?.inputs ?? {}));
  return {
    bytes: files.reduce((sum, file) => sum + (metafile.outputs[file]?.bytes ?? 0), 0),
    inputs: [
      ...new Set(inputs.map((input) => input.replace(/^(\.\.\/)*.*?node_modules\//, 'node_modules/'))),
    ].sort(),
  };
}

/** `1234567` → `1206 KiB`. */
export function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildBundles().then(
    ({ outdir, ms, sizes, upFront }) => {
      const lines = Object.entries(sizes).map(
        ([file, bytes]) => `  ${file.padEnd(22)} ${kib(bytes).padStart(9)}`,
      );
      const loaded = Object.entries(STARTS).map(
        ([what, source]) => `  ${what} loads ${kib(upFront[source]?.bytes ?? 0)} before it runs`,
      );
      process.stdout.write(
        `built ${relative(process.cwd(), outdir) || '.'}/ in ${ms} ms\n${lines.join('\n')}\n${loaded.join('\n')}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
