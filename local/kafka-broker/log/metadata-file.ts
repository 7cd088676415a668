/**
 * `topics.json`: the durable list of topics. Replaced atomically on every change.
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Contents of topics.json. */
export interface Metadata {
  version: 1;
  /** Producer ids below this may have been handed out; a restarted broker continues from here. */
  producerIdCeiling: number;
  topics: Record<string, { partitions: number; configs: Record<string, string | null> }>;
}

const FILE = 'topics.json';

/** Reads topics.json, or an empty store description if there is none yet. */
export function readMetadata(dataDir: string): Metadata {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) return { version: 1, producerIdCeiling: 1000, topics: {} };
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Metadata;
  if (parsed.version !== 1) throw new Error(`${path}: unsupported version ${String(parsed.version)}`);
  return parsed;
}

/** Writes topics.json durably: temp file, fsync, rename, fsync of the directory. */
export function writeMetadata(dataDir: string, meta: Metadata): void {
  const path = join(dataDir, FILE);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(meta, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
