/**
 * Test support: a stand-in for `mssql.ConnectionPool` that records every statement drizzle sends (SQL text,
 * parameters, inside which transaction) and answers with scripted results. With it the SQL Server stores run
 * without a server, so a test can check that a store issues exactly the statements the builders render, in
 * which transaction, and that driver values (upper-case GUIDs, `bigint` as strings, JSON text) are decoded.
 * It proves nothing about SQL Server itself: that needs `store.mssql.int.test.ts`.
 * @module
 */
import { drizzle } from 'drizzle-orm/node-mssql';
import type mssql from 'mssql';
import type { MssqlDatabase } from './connect.ts';

export interface RecordedQuery {
  sql: string;
  params: unknown[];
  /** 0 outside a transaction, else the 1-based number of the transaction it ran in. */
  transaction: number;
  /** drizzle's typed queries ask for rows as arrays in field order; raw `execute` for objects. */
  arrayRowMode: boolean;
}

export type RecordedEvent =
  | ({ kind: 'query' } & RecordedQuery)
  | { kind: 'begin'; transaction: number; isolationLevel: number | undefined }
  | { kind: 'commit' | 'rollback'; transaction: number };

/** A scripted answer: rows (arrays for typed queries, objects for raw ones) and rows affected. */
export interface ScriptedResult {
  recordset?: unknown[];
  rowsAffected?: number[];
}

export type Responder = (query: RecordedQuery) => ScriptedResult | undefined;

export interface RecordingClient {
  /** A connection over the recorder, shaped like what `openMssql` returns. */
  readonly connection: Pick<MssqlDatabase, 'db' | 'config' | 'target'>;
  /** The recorder as a pool (connect/close/on are no-ops), e.g. for `migrate(…, { createPool })`. */
  readonly pool: mssql.ConnectionPool;
  readonly events: RecordedEvent[];
  /** Just the queries, in order. */
  queries(): RecordedQuery[];
  /** Answers the next queries with `responder` (default: no rows, 0 affected). */
  respond(responder: Responder): void;
  clear(): void;
}

/** Builds a recorder; every store created over `connection` talks to it. */
export function createRecordingClient(): RecordingClient {
  const events: RecordedEvent[] = [];
  let responder: Responder = () => undefined;
  let transactions = 0;

  const request = (transaction: () => number) => {
    const params: unknown[] = [];
    const req = {
      arrayRowMode: false,
      /** `input(name, value)` or, for dates, `input(name, type, value)`. */
      input(name: string, ...typeAndValue: unknown[]) {
        const index = Number(name.replace(/^par/, ''));
        params[index] = typeAndValue.at(-1);
        return req;
      },
      async query(text: string) {
        const recorded: RecordedQuery = {
          sql: text,
          params: [...params],
          transaction: transaction(),
          arrayRowMode: req.arrayRowMode,
        };
        events.push({ kind: 'query', ...recorded });
        const answer = responder(recorded) ?? {};
        const recordset = answer.recordset ?? [];
        return {
          recordset,
          recordsets: [recordset],
          rowsAffected: answer.rowsAffected ?? [recordset.length],
          output: {},
        };
      },
    };
    return req;
  };

  const pool = {
    connect: async () => pool,
    close: async () => {},
    on: () => pool,
    request: () => request(() => 0),
    transaction() {
      const number = ++transactions;
      return {
        async begin(isolationLevel?: number) {
          events.push({ kind: 'begin', transaction: number, isolationLevel });
        },
        async commit() {
          events.push({ kind: 'commit', transaction: number });
        },
        async rollback() {
          events.push({ kind: 'rollback', transaction: number });
        },
        request: () => request(() => number),
      };
    },
  };

  return {
    pool: pool as unknown as mssql.ConnectionPool,
    connection: {
      db: drizzle({ client: pool as unknown as mssql.ConnectionPool }),
      config: { server: 'recording' },
      target: 'recording:0/recording',
    },
    events,
    queries: () => events.flatMap((e) => (e.kind === 'query' ? [e] : [])),
    respond(next) {
      responder = next;
    },
    clear() {
      events.length = 0;
      responder = () => undefined;
    },
  };
}
