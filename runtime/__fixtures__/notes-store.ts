/**
 * Test-only: a tiny `TransactionalStore` over PGlite with raw SQL, so the runtime's own tests exercise real
 * transactions, rollback, outbox and inbox without depending on `db/`. Not part of the public surface.
 * @module
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type NewOutboxRecord, type OutboxRecord, storeToken, type TransactionalStore } from '../store.ts';

export interface Note {
  id: string;
  text: string;
}

export interface NotesRepo {
  add(note: Note): Promise<void>;
  get(id: string): Promise<Note | undefined>;
}

export const notesStore = storeToken<NotesRepo>('notes');

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS notes (id text PRIMARY KEY, text text NOT NULL);
  CREATE TABLE IF NOT EXISTS outbox (
    id bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, topic text NOT NULL, key text NOT NULL,
    value text NOT NULL, headers jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
    attempts int NOT NULL DEFAULT 0, published_at timestamptz);
  CREATE TABLE IF NOT EXISTS inbox (consumer text NOT NULL, event_id text NOT NULL, PRIMARY KEY (consumer, event_id));
`;

type Queryable = PGlite | Transaction;

function repoOver(db: Queryable): NotesRepo {
  return {
    async add(note) {
      await db.query('INSERT INTO notes (id, text) VALUES ($1, $2)', [note.id, note.text]);
    },
    async get(id) {
      const { rows } = await db.query<Note>('SELECT id, text FROM notes WHERE id = $1', [id]);
      return rows[0];
    },
  };
}

export interface NotesFixture {
  store: TransactionalStore<NotesRepo>;
  /** Outbox rows of one event id, or all. */
  outbox(eventId?: string): Promise<NewOutboxRecord[]>;
  inboxCount(consumer: string, eventId: string): Promise<number>;
  close(): Promise<void>;
}

/** One PGlite in memory (2–5 s to start: create it once per test file, in `beforeAll`). */
export async function createNotesFixture(): Promise<NotesFixture> {
  const db = await PGlite.create();
  await db.exec(SCHEMA);
  const store: TransactionalStore<NotesRepo> = {
    service: 'notes',
    repo: repoOver(db),
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          repo: repoOver(tx),
          async appendOutbox(records) {
            for (const r of records) {
              await tx.query(
                'INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5)',
                [r.eventId, r.topic, r.key, r.value, JSON.stringify(r.headers)],
              );
            }
          },
          async recordInbox(consumer, eventId) {
            const { affectedRows } = await tx.query(
              'INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
              [consumer, eventId],
            );
            return affectedRows === 1;
          },
        }),
      ),
    outbox: {
      claim: async (): Promise<OutboxRecord[]> => [],
      markPublished: async () => 0,
      release: async () => 0,
      recordFailures: async () => [],
      parkedCount: async () => 0,
      listParked: async () => [],
      republish: async () => 0,
      pendingCount: async () => {
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
        );
        return rows[0]?.n ?? 0;
      },
    },
    ping: async () => {
      await db.query('SELECT 1');
    },
  };
  return {
    store,
    async outbox(eventId) {
      const { rows } = await db.query<{
        event_id: string;
        topic: string;
        key: string;
        value: string;
        headers: Record<string, string>;
      }>(
        `SELECT event_id, topic, key, value, headers FROM outbox ${eventId === undefined ? '' : 'WHERE event_id = $1'} ORDER BY id`,
        eventId === undefined ? [] : [eventId],
      );
      return rows.map((r) => ({
        eventId: r.event_id,
        topic: r.topic,
        key: r.key,
        value: r.value,
        headers: r.headers,
      }));
    },
    async inboxCount(consumer, eventId) {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM inbox WHERE consumer = $1 AND event_id = $2',
        [consumer, eventId],
      );
      return rows[0]?.n ?? 0;
    },
    close: () => db.close(),
  };
}
