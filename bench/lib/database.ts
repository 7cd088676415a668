/**
 * Where a system under test keeps its data: PGlite in its own process (default), or a fresh scratch database
 * on the PostgreSQL server `DATABASE_URL` points at, dropped afterwards.
 * @module
 */
import { createScratchDatabase } from '../../db/postgres/scratch-database.ts';

export interface BenchDatabase {
  /** For the SUT: absent = PGlite in memory. */
  url: string | undefined;
  drop(): Promise<void>;
}

export async function benchDatabase(serverUrl: string | undefined): Promise<BenchDatabase> {
  if (serverUrl === undefined) return { url: undefined, drop: async () => {} };
  const scratch = await createScratchDatabase(serverUrl);
  return { url: scratch.url, drop: () => scratch.drop() };
}

/** A database's label for reports, without credentials. */
export function databaseLabel(serverUrl: string | undefined): string {
  if (serverUrl === undefined) return 'PGlite (in memory, in the SUT process)';
  const url = new URL(serverUrl);
  return `PostgreSQL server ${url.hostname}:${url.port || 5432} (scratch database per SUT)`;
}
