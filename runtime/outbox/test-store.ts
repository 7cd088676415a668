/**
 * Test support: a tiny `TransactionalStore` over PGlite raw SQL (outbox, inbox and an `effects` table), so
 * the relay and consumer tests run against a real database. Stand-in until `db/` offers its stores.
 * @module
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type {
  AttemptRecord,
  AttemptsPort,
  MaintenancePort,
  NewOutboxRecord,
  OutboxPort,
  OutboxRecord,
  ParkedOutboxRecord,
  StoreTransaction,
  TransactionalStore,
} from '../store.ts';

/** The test repository: one row per handler effect. */
export interface EffectsRepo {
  addEffect(eventId: string, note: string): Promise<void>;
  effects(): Promise<{ eventId: string; note: string }[]>;
}

/** A store plus the raw database, for assertions. */
export interface TestStore extends TransactionalStore<EffectsRepo> {
  db: PGlite;
  /** Empties every table and restarts the ids (PGlite takes seconds to start: share one store per file). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE outbox (
  id bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, topic text NOT NULL, key text NOT NULL,
  value text NOT NULL, headers jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempts integer NOT NULL DEFAULT 0, lease_until timestamptz, published_at timestamptz,
  failures integer NOT NULL DEFAULT 0, last_error text, parked_at timestamptz, lease_owner text);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE TABLE inbox (consumer text NOT NULL, event_id text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (consumer, event_id));
CREATE TABLE effects (id serial PRIMARY KEY, event_id text NOT NULL, note text NOT NULL);
CREATE TABLE consumer_attempts (consumer text NOT NULL, event_id text NOT NULL, attempts integer NOT NULL,
  last_error text, PRIMARY KEY (consumer, event_id));`;

type Queryable = Pick<PGlite, 'query'> | Transaction;

function effectsRepo(db: Queryable): EffectsRepo {
  return {
    async addEffect(eventId, note) {
      await db.query('INSERT INTO effects (event_id, note) VALUES ($1, $2)', [eventId, note]);
    },
    async effects() {
      const { rows } = await db.query<{ eventId: string; note: string }>(
        'SELECT event_id AS "eventId", note FROM effects ORDER BY id',
      );
      return rows;
    },
  };
}

/** Inserts outbox rows (in `records` order, so ids follow it). */
export async function appendOutbox(db: Queryable, records: readonly NewOutboxRecord[]): Promise<void> {
  for (const r of records) {
    await db.query('INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5)', [
      r.eventId,
      r.topic,
      r.key,
      r.value,
      JSON.stringify(r.headers),
    ]);
  }
}

interface OutboxRow {
  id: string;
  eventId: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  createdAt: Date;
  attempts: number;
  failures: number;
  parkedAt: Date | null;
  lastError: string | null;
}

const ROW = `id::text AS id, event_id AS "eventId", topic, key, value, headers, created_at AS "createdAt", attempts,
  failures, parked_at AS "parkedAt", last_error AS "lastError"`;

const toRecord = ({ parkedAt: _p, lastError: _l, ...row }: OutboxRow): OutboxRecord => ({
  ...row,
  id: BigInt(row.id),
});
const byId = (a: { id: bigint }, b: { id: bigint }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
/** `lease_owner` matches the caller's owner (none = NULL). */
const OWNED = 'lease_owner IS NOT DISTINCT FROM $2';

function outboxPort(db: PGlite): OutboxPort {
  return {
    async claim(limit, leaseMs, owner) {
      // now(), not clock_timestamp(): one instant for the whole statement, or a lease expiring while it runs
      // could free a key's later rows before its earlier ones (out of order).
      const { rows } = await db.query<OutboxRow>(
        `UPDATE outbox SET lease_until = now() + make_interval(secs => $2::double precision / 1000),
                attempts = attempts + 1, lease_owner = $3
          WHERE id IN (SELECT id FROM outbox
                        WHERE published_at IS NULL AND parked_at IS NULL
                          AND (lease_until IS NULL OR lease_until <= now())
                          -- keep each key in order: skip a key while an earlier row of it is leased or parked
                          AND NOT EXISTS (SELECT 1 FROM outbox AS earlier
                                           WHERE earlier.key = outbox.key AND earlier.id < outbox.id
                                             AND earlier.published_at IS NULL
                                             AND (earlier.lease_until > now() OR earlier.parked_at IS NOT NULL))
                        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING ${ROW}`,
        [limit, leaseMs, owner ?? null],
      );
      return rows.map(toRecord).sort(byId);
    },
    async markPublished(ids, owner) {
      const { affectedRows } = await db.query(
        `UPDATE outbox SET published_at = clock_timestamp(), lease_until = NULL
          WHERE id = ANY($1::bigint[]) AND published_at IS NULL AND ${OWNED}`,
        [ids.map(String), owner ?? null],
      );
      return affectedRows ?? 0;
    },
    async release(ids, owner) {
      const { affectedRows } = await db.query(
        `UPDATE outbox SET lease_until = NULL, lease_owner = NULL
          WHERE id = ANY($1::bigint[]) AND published_at IS NULL AND ${OWNED}`,
        [ids.map(String), owner ?? null],
      );
      return affectedRows ?? 0;
    },
    async recordFailures(failures, { owner, retryInMs, parkAfter }) {
      const parked: bigint[] = [];
      for (const { id, error } of failures) {
        const { rows } = await db.query<{ parked: boolean }>(
          `UPDATE outbox SET failures = failures + 1, last_error = $3,
                  parked_at = CASE WHEN failures + 1 >= $4 THEN clock_timestamp() END,
                  lease_until = CASE WHEN failures + 1 >= $4 THEN NULL
                                     ELSE clock_timestamp() + make_interval(secs => $5::double precision / 1000) END
            WHERE id = $1 AND published_at IS NULL AND parked_at IS NULL AND ${OWNED}
            RETURNING parked_at IS NOT NULL AS parked`,
          [String(id), owner ?? null, error, parkAfter, retryInMs],
        );
        if (rows[0]?.parked) parked.push(id);
      }
      return parked;
    },
    async pendingCount() {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
      );
      return rows[0]?.n ?? 0;
    },
    async parkedCount() {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE parked_at IS NOT NULL AND published_at IS NULL',
      );
      return rows[0]?.n ?? 0;
    },
    async listParked({ limit = 100, afterId = 0n } = {}) {
      const { rows } = await db.query<OutboxRow>(
        `SELECT ${ROW} FROM outbox WHERE parked_at IS NOT NULL AND published_at IS NULL AND id > $1
          ORDER BY id LIMIT $2`,
        [String(afterId), limit],
      );
      return rows.map(
        (row): ParkedOutboxRecord => ({
          ...toRecord(row),
          parkedAt: row.parkedAt!,
          lastError: row.lastError,
        }),
      );
    },
    async republish(target) {
      const { affectedRows } = await db.query(
        `UPDATE outbox SET parked_at = NULL, failures = 0, lease_until = NULL, lease_owner = NULL
          WHERE parked_at IS NOT NULL AND published_at IS NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))`,
        ['all' in target ? null : target.ids.map(String)],
      );
      return affectedRows ?? 0;
    },
  };
}

/** Pruning over the test tables (no attempts table here: that one reports 0). */
function maintenancePort(db: PGlite): MaintenancePort {
  return {
    async prune({ now, limit, windows }) {
      const before = (ms: number) => new Date(now.getTime() - ms);
      const outbox = await db.query(
        `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
          WHERE published_at IS NOT NULL AND published_at < $1 LIMIT $2)`,
        [before(windows.outboxMs), limit],
      );
      const inbox = await db.query(
        `DELETE FROM inbox WHERE (consumer, event_id) IN (SELECT consumer, event_id FROM inbox
          WHERE processed_at < $1 LIMIT $2)`,
        [before(windows.inboxMs), limit],
      );
      return { outbox: outbox.affectedRows ?? 0, inbox: inbox.affectedRows ?? 0, consumer_attempts: 0 };
    },
  };
}

/** Durable attempt counts (the consumer's `AttemptsPort`) in the `consumer_attempts` table. */
function attemptsPort(db: PGlite): AttemptsPort {
  return {
    async record(consumer, eventIds, { delta, error }) {
      const out = new Map<string, AttemptRecord>();
      for (const eventId of new Set(eventIds)) {
        const { rows } = await db.query<{ attempts: number; lastError: string | null }>(
          `INSERT INTO consumer_attempts (consumer, event_id, attempts, last_error) VALUES ($1, $2, greatest(0, $3::int), $4)
           ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = greatest(0, consumer_attempts.attempts + $3::int),
             last_error = coalesce(excluded.last_error, consumer_attempts.last_error)
           RETURNING attempts, last_error AS "lastError"`,
          [consumer, eventId, delta, error ?? null],
        );
        out.set(eventId, rows[0]!);
      }
      return out;
    },
    async handled(consumer, eventId) {
      const { rows } = await db.query('SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2', [
        consumer,
        eventId,
      ]);
      return rows.length > 0;
    },
  };
}

/**
 * A fresh in-memory PGlite store with the outbox, inbox and effects tables.
 * @example const store = await createTestStore('payments'); … await store.close();
 */
export async function createTestStore(service = 'test'): Promise<TestStore> {
  const db = await PGlite.create();
  await db.exec(SCHEMA);
  return {
    service,
    db,
    repo: effectsRepo(db),
    outbox: outboxPort(db),
    attempts: attemptsPort(db),
    maintenance: maintenancePort(db),
    async transaction<T>(fn: (tx: StoreTransaction<EffectsRepo>) => Promise<T>): Promise<T> {
      return db.transaction(async (tx) =>
        fn({
          repo: effectsRepo(tx),
          appendOutbox: (records) => appendOutbox(tx, records),
          async recordInbox(consumer, eventId) {
            const { rows } = await tx.query(
              'INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS one',
              [consumer, eventId],
            );
            return rows.length === 1;
          },
        }),
      );
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async reset() {
      await db.exec('TRUNCATE outbox, inbox, effects, consumer_attempts RESTART IDENTITY');
    },
    close: () => db.close(),
  };
}
