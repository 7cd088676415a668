/**
 * Test support: a tiny `TransactionalStore` over PGlite raw SQL (outbox, inbox and an `effects` table), so
 * the relay and consumer tests run against a real database. Stand-in until `db/` offers its stores.
 * @module
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type {
  AttemptRecord,
  AttemptsPort,
  NewOutboxRecord,
  OutboxPort,
  OutboxRecord,
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
  attempts integer NOT NULL DEFAULT 0, lease_until timestamptz, published_at timestamptz);
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
}

function outboxPort(db: PGlite): OutboxPort {
  return {
    async claim(limit, leaseMs) {
      const { rows } = await db.query<OutboxRow>(
        `UPDATE outbox SET lease_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000),
                attempts = attempts + 1
          WHERE id IN (SELECT id FROM outbox
                        WHERE published_at IS NULL AND (lease_until IS NULL OR lease_until <= clock_timestamp())
                          -- keep each key in order across relays: skip a key while an earlier row of it is leased
                          AND NOT EXISTS (SELECT 1 FROM outbox AS earlier
                                           WHERE earlier.key = outbox.key AND earlier.id < outbox.id
                                             AND earlier.published_at IS NULL AND earlier.lease_until > clock_timestamp())
                        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id::text AS id, event_id AS "eventId", topic, key, value, headers,
                    created_at AS "createdAt", attempts`,
        [limit, leaseMs],
      );
      return rows
        .map((row): OutboxRecord => ({ ...row, id: BigInt(row.id) }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async markPublished(ids) {
      await db.query(
        'UPDATE outbox SET published_at = clock_timestamp(), lease_until = NULL WHERE id = ANY($1::bigint[])',
        [ids.map(String)],
      );
    },
    async release(ids) {
      await db.query(
        'UPDATE outbox SET lease_until = NULL WHERE id = ANY($1::bigint[]) AND published_at IS NULL',
        [ids.map(String)],
      );
    },
    async pendingCount() {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
      );
      return rows[0]?.n ?? 0;
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
