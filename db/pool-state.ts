/**
 * What a store's connection pool looks like now, read from the driver's own counters (`pg.Pool`,
 * `mssql.ConnectionPool`) behind a drizzle database's `$client`; PGlite (one connection, no pool) has none.
 * @module
 */
import type { PoolState } from '../runtime/store.ts';

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max?: number };
}
interface MssqlPoolLike {
  size: number;
  available: number;
  pending: number;
  borrowed: number;
  config: { pool?: { max?: number } };
}

/** Reads the pool of `db` (a drizzle database), or undefined when it has none. */
export function poolStateOf(db: unknown): PoolState | undefined {
  try {
    return readPool(db);
  } catch {
    // mssql's getters throw before the pool has connected (or while it reconnects): no state to report.
    return undefined;
  }
}

function readPool(db: unknown): PoolState | undefined {
  const client = (db as { $client?: unknown }).$client as Partial<PgPoolLike & MssqlPoolLike> | undefined;
  if (client === undefined || client === null) return undefined;
  if (typeof client.totalCount === 'number' && typeof client.idleCount === 'number') {
    return {
      max: client.options?.max ?? 10,
      used: client.totalCount - client.idleCount,
      idle: client.idleCount,
      pending: client.waitingCount ?? 0,
    };
  }
  if (typeof client.borrowed === 'number' && typeof client.available === 'number') {
    return {
      max: client.config?.pool?.max ?? 10,
      used: client.borrowed,
      idle: client.available,
      pending: client.pending ?? 0,
    };
  }
  return undefined;
}
