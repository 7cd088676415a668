/**
 * Creating a PGlite instance without paying for initdb every time. A new PGlite database (in memory, or a
 * data directory that holds none yet) runs initdb inside WebAssembly: 4–5 s on a 2-core machine. Its result
 * depends only on the PGlite build, so the first run saves it as a gzip dump in `os.tmpdir()`, keyed by the
 * PGlite version, and later runs load that dump instead (~1 s, most of it compiling PGlite's WebAssembly).
 * Migrations are not part of the dump; they run afterwards exactly as on a fresh database.
 *
 * The cache is an optimisation only: when the version cannot be read (a bundle without `node_modules`), the
 * directory is not writable, or a dump fails to load, PGlite runs initdb as it would have anyway.
 * @module
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const PREFIX = 'orderflow-initdb-';

export interface CreatePgliteOptions {
  /** Data directory; absent = in memory. An existing database in it is opened as it is. */
  dataDir?: string;
  /** Where the initdb dump is kept (default `os.tmpdir()`); `false` = never read or write one. */
  cacheDir?: string | false;
}

export interface CreatedPglite {
  readonly client: PGlite;
  /** `existing`: a data directory with a database; `cache`: loaded from the dump; `initdb`: made from scratch. */
  readonly source: 'existing' | 'cache' | 'initdb';
}

/** A PGlite instance, initialised from the cached initdb dump where there is one (see the module comment). */
export async function createPglite(options: CreatePgliteOptions = {}): Promise<CreatedPglite> {
  const { dataDir } = options;
  if (dataDir !== undefined && existsSync(join(dataDir, 'PG_VERSION')))
    return { client: await PGlite.create(dataDir), source: 'existing' };
  const dump = options.cacheDir === false ? undefined : dumpPath(options.cacheDir ?? tmpdir());
  if (dump !== undefined && existsSync(dump)) {
    try {
      const loadDataDir = new Blob([readFileSync(dump)]);
      const client = await PGlite.create(dataDir === undefined ? { loadDataDir } : { dataDir, loadDataDir });
      return { client, source: 'cache' };
    } catch {
      // An unreadable or incompatible dump: forget it and start clean below.
      rmSync(dump, { force: true });
      if (dataDir !== undefined) emptyDirectory(dataDir);
    }
  }
  const client = await PGlite.create(dataDir);
  // Saved before anything else runs on the database: the dump is initdb's output only.
  if (dump !== undefined) await saveDump(client, dump, PREFIX);
  return { client, source: 'initdb' };
}

/**
 * Makes sure the initdb dump exists (runs initdb once if not), so that several processes about to start
 * PGlite databases do not all run initdb at once. Returns where the dump is, or undefined without a cache.
 */
export async function ensureInitdbDump(cacheDir: string = tmpdir()): Promise<string | undefined> {
  const dump = dumpPath(cacheDir);
  if (dump === undefined || existsSync(dump)) return dump;
  const { client } = await createPglite({ cacheDir });
  await client.close();
  return existsSync(dump) ? dump : undefined;
}

/** The dump's file for this PGlite version, or undefined when there is no cache. */
function dumpPath(dir: string): string | undefined {
  const version = pgliteVersion();
  return version === undefined ? undefined : join(dir, `${PREFIX}${version}.tar.gz`);
}

/** The installed PGlite's version, or undefined when it cannot be read (a bundle without node_modules). */
export function pgliteVersion(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
    };
    return pkg.name === '@electric-sql/pglite' && pkg.version !== undefined
      ? pkg.version.replace(/[^\w.-]/g, '_')
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Saves `client`'s data directory as a gzip dump at `path`, atomically (a temp file renamed into place, so a
 * concurrent reader never sees half a dump), and removes the other dumps named `<prefix>…`.tar.gz` beside
 * it (those of older PGlite versions or migrations). Failing to save (read-only directory, full disk) only
 * means the next start does the work again.
 */
export async function saveDump(client: PGlite, path: string, prefix: string): Promise<void> {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await client.exec('checkpoint');
    const dump = await client.dumpDataDir('gzip');
    writeFileSync(temp, new Uint8Array(await dump.arrayBuffer()));
    renameSync(temp, path);
    const dir = dirname(path);
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix) && name.endsWith('.tar.gz') && join(dir, name) !== path)
        rmSync(join(dir, name), { force: true });
    }
  } catch {
    rmSync(temp, { force: true });
  }
}

function emptyDirectory(dir: string): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}
