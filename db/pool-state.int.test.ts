/**
 * `poolStateOf` reads the drivers' own counters: a real `pg.Pool` against the PostgreSQL server when
 * `DATABASE_URL` names one (connections held and waiting), an `mssql.ConnectionPool` before it connects (its getters throw then),
 * and nothing for PGlite.
 */
import mssql from 'mssql';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { poolStateOf } from './pool-state.ts';

const url = process.env.DATABASE_URL;
if (!url?.startsWith('postgres'))
  console.log(
    '[skipped] pg.Pool connection counts (db/pool-state.int.test.ts): DATABASE_URL is not a postgres:// URL',
  );

describe('poolStateOf', () => {
  it('is undefined for a database without a pool', () => {
    expect(poolStateOf({})).toBeUndefined();
    expect(poolStateOf({ $client: { query: () => undefined } })).toBeUndefined();
  });

  it('reports nothing (rather than throwing at a scrape) for an mssql ConnectionPool not connected yet', () => {
    const pool = new mssql.ConnectionPool({ server: '127.0.0.1', pool: { max: 7 } });
    expect(poolStateOf({ $client: pool })).toBeUndefined();
  });

  it.skipIf(!url?.startsWith('postgres'))(
    'counts used, idle and waiting connections of a pg.Pool',
    async () => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        const a = await pool.connect();
        const b = await pool.connect();
        const waiting = pool.connect();
        expect(poolStateOf({ $client: pool })).toEqual({ max: 2, used: 2, idle: 0, pending: 1 });
        a.release();
        (await waiting).release();
        b.release();
        expect(poolStateOf({ $client: pool })).toEqual({ max: 2, used: 0, idle: 2, pending: 0 });
      } finally {
        await pool.end();
      }
    },
  );
});
