/**
 * Fails when a Drizzle schema and its checked-in migrations drift apart, for both dialects and every
 * service: `drizzle-kit generate` runs with the service's own config, but writing into a temporary copy of
 * its migrations folder, and must report "No schema changes" and create nothing. If it does find changes,
 * someone changed a schema without `npm run db:generate` (or edited a generated snapshot).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DRIZZLE_KIT = join(ROOT, 'node_modules', 'drizzle-kit', 'bin.cjs');
const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'orderflow-migrations-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CONFIGS = [
  ['postgres', 'orders', 'db/drizzle/orders.pg.config.ts'],
  ['postgres', 'payments', 'db/drizzle/payments.pg.config.ts'],
  ['mssql', 'orders', 'db/drizzle/orders.mssql.config.ts'],
  ['mssql', 'payments', 'db/drizzle/payments.mssql.config.ts'],
] as const;

interface KitConfig {
  schema: string;
  out: string;
  [key: string]: unknown;
}

/**
 * Runs `drizzle-kit generate` with `configPath`'s settings, but on a copy of its migrations folder
 * (optionally minus the newest migration). Returns the tool's output and the folders it left.
 */
async function generateIntoCopy(configPath: string, { dropNewest = false } = {}) {
  const config = ((await import(join(ROOT, configPath))) as { default: KitConfig }).default;
  const work = mkdtempSync(join(scratch, 'run-'));
  const out = join(work, 'migrations');
  cpSync(join(ROOT, config.out), out, { recursive: true });
  const before = readdirSync(out).sort();
  if (dropNewest) rmSync(join(out, before.at(-1)!), { recursive: true });
  const copy = { ...config, schema: join(ROOT, config.schema), out };
  const copyPath = join(work, 'drizzle.config.mjs');
  writeFileSync(copyPath, `export default ${JSON.stringify(copy, null, 2)};\n`);
  const { stdout, stderr } = await run(process.execPath, [DRIZZLE_KIT, 'generate', `--config=${copyPath}`], {
    cwd: ROOT,
    timeout: 30_000,
  });
  return { output: `${stdout}\n${stderr}`, before, after: readdirSync(out).sort() };
}

describe('checked-in migrations match the schemas', () => {
  it.concurrent.each(CONFIGS)(
    '%s / %s: drizzle-kit generate finds no changes',
    async (_dialect, _service, configPath) => {
      const { output, before, after } = await generateIntoCopy(configPath);
      expect(output).toMatch(/No schema changes/);
      expect(after).toEqual(before);
    },
  );

  it.concurrent('detects drift: without its newest migration, a schema needs a new one', async () => {
    const { output, before, after } = await generateIntoCopy('db/drizzle/orders.mssql.config.ts', {
      dropNewest: true,
    });
    expect(output).not.toMatch(/No schema changes/);
    expect(after).toHaveLength(before.length);
    expect(after.at(-1)).not.toBe(before.at(-1));
  });
});
