import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NoteAdded } from './__fixtures__/events.ts';
import { createNotesFixture, type NotesFixture, notesStore } from './__fixtures__/notes-store.ts';
import { defineHttpFunction, type InvocationMeta, type Ports } from './define.ts';
import { ConflictError, DependencyUnavailableError, HandlerTimeoutError } from './errors.ts';
import { GroupCommitter } from './group-commit.ts';
import { invokeHttpFunction, type RuntimeEnv } from './invoke.ts';
import type { TransactionalStore } from './store.ts';

let fx: NotesFixture;
let transactions = 0;
let committed = 0;

let counted: TransactionalStore<unknown>;
const now = new Date('2030-01-01T00:00:00.000Z');

beforeAll(async () => {
  fx = await createNotesFixture();
  counted = {
    ...fx.store,
    transaction: (work) => {
      transactions++;
      return fx.store.transaction(work);
    },
  } as TransactionalStore<unknown>;
});
afterAll(() => fx.close());

/** A fresh environment per test: its own group committer, counters at zero. */
function envWith(groupCommit?: RuntimeEnv['groupCommit']): RuntimeEnv {
  return {
    stores: { notes: counted },
    ports: {} as Ports,
    clock: () => now,
    logger: pino({ level: 'silent' }),
    onCommitted: () => committed++,
    ...(groupCommit === undefined ? {} : { groupCommit }),
  };
}
let env: RuntimeEnv;
beforeEach(() => {
  transactions = 0;
  committed = 0;
  env = envWith();
});

type Behaviour = 'ok' | 'conflict' | 'down' | 'hang';
const hung: Array<Promise<void>> = [];

const addNote = defineHttpFunction({
  id: 'add-note',
  method: 'POST',
  path: '/notes/:id',
  store: notesStore,
  input: {
    params: z.object({ id: z.string() }),
    body: z.object({ text: z.string(), behaviour: z.enum(['ok', 'conflict', 'down', 'hang']) }),
  },
  handler: async ({ input, deps }) => {
    const { id } = input.params;
    const { text, behaviour } = input.body;
    if (behaviour === 'hang') {
      // Writes only after its timeout: the write must not land in any later transaction.
      const late = new Promise<void>((resolve) => setTimeout(resolve, 300)).then(() =>
        deps.db.add({ id, text }),
      );
      hung.push(late.catch(() => {}));
      await late;
    }
    await deps.db.add({ id, text });
    deps.emit(NoteAdded.create({ noteId: id, text }, { time: deps.clock() }));
    if (behaviour === 'conflict') throw new ConflictError(`note ${id} conflicts`);
    if (behaviour === 'down') throw new DependencyUnavailableError('db:notes', 'The notes database is down');
    return { status: 201, body: { id } };
  },
});

/** The same function with its members run concurrently (their `add` calls queued one at a time). */
const addNoteConcurrently = defineHttpFunction({ ...addNote, groupCommit: 'concurrent' });
/** Which of the two the tests post to (each describe below runs for both). */
let posted: typeof addNote = addNote;
/** Prefix of the note ids of the run (both runs share one database). */
let run = '';

let seq = 0;
const meta = (): InvocationMeta => ({
  functionId: 'add-note',
  correlationId: `c-${++seq}`,
  causationId: `r-${seq}`,
  attempt: 1,
});
const post = (
  id: string,
  behaviour: Behaviour = 'ok',
  headers: Record<string, string> = {},
  runtime: RuntimeEnv = env,
) =>
  invokeHttpFunction(
    posted,
    { params: { id }, body: { text: `text of ${id}`, behaviour }, query: {}, headers },
    runtime,
    meta(),
  );
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${run}${prefix}-${i}`);

/** Which of `noteIds` are stored, and how many outbox rows name them. */
async function stored(noteIds: readonly string[]): Promise<{ notes: string[]; outbox: number }> {
  const notes: string[] = [];
  for (const id of noteIds) if ((await fx.store.repo.get(id)) !== undefined) notes.push(id);
  const rows = await fx.outbox();
  const outbox = rows.filter((row) => noteIds.includes(row.key)).length;
  return { notes, outbox };
}

describe.each([
  ['in turn', addNote],
  ['concurrently', addNoteConcurrently],
])('group commit of HTTP invocations, members run %s', (mode, fn) => {
  beforeEach(() => {
    posted = fn;
    run = mode === 'in turn' ? '' : 'c-';
  });

  it('runs a request alone, at once, when nothing else is in flight', async () => {
    for (const id of ids('alone', 3)) expect((await post(id)).status).toBe(201);
    expect(transactions).toBe(3);
    expect(committed).toBe(3);
  });

  it('given 20 concurrent requests, then they share fewer transactions, and every row and outbox row is there', async () => {
    const noteIds = ids('many', 20);
    const results = await Promise.all(noteIds.map((id) => post(id)));

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    // Read in one turn of the event loop, they go together as one group.
    expect(transactions).toBe(1);
    expect(committed).toBe(1);
    expect(await stored(noteIds)).toEqual({ notes: noteIds, outbox: 20 });
  });

  it('answers each request only after the commit that holds its row', async () => {
    const noteIds = ids('visible', 10);
    const seen = await Promise.all(
      noteIds.map(async (id) => {
        await post(id);
        return (await fx.store.repo.get(id)) !== undefined; // read outside the transaction
      }),
    );
    expect(seen).toEqual(Array(10).fill(true));
  });

  it('bounds a group by maxSize', async () => {
    const bounded = envWith({ maxSize: 4 });
    await Promise.all(ids('bounded', 9).map((id) => post(id, 'ok', {}, bounded)));
    expect(transactions).toBe(3); // 1 alone, then 4 + 4
  });

  it.each([
    [1, 1],
    [2, 2],
  ])('with maxInFlight %i, runs %i group(s) side by side', async (maxInFlight, sideBySide) => {
    // A transaction that holds until released: the second group arrives while the first is in flight.
    let open = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const committer = new GroupCommitter(
      async (work) => {
        most = Math.max(most, ++open);
        await new Promise<void>((resolve) => releases.push(resolve));
        try {
          return await work({ repo: {} } as never);
        } finally {
          open--;
        }
      },
      () => {},
      { maxInFlight },
    );
    const member = { run: async () => ({ value: 'ok', records: [] }) };
    const first = committer.submit(member);
    await new Promise((resolve) => setImmediate(resolve)); // the first group is in flight now
    const second = committer.submit(member);
    await new Promise((resolve) => setImmediate(resolve));
    while (releases.length > 0 || open > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all([first, second])).toEqual(['ok', 'ok']);
    expect(most).toBe(sideBySide);
  });

  it('given one member failing with its own error, then it gets that error alone and the others commit', async () => {
    const noteIds = ids('mixed', 6);
    const results = await Promise.allSettled(noteIds.map((id, i) => post(id, i === 3 ? 'conflict' : 'ok')));

    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const others = noteIds.filter((_, i) => i !== 3);
    expect(await stored(noteIds)).toEqual({ notes: others, outbox: 5 });
    // The group of 6 rolled back; its 5 others again; the failing one alone.
    expect(transactions).toBe(3);
  });

  it('given a member failing only because of one before it in the group, then alone it gets its own answer', async () => {
    const [other, same] = [`${run}dup-other`, `${run}dup-same`];
    const [, a, b] = await Promise.allSettled([post(other), post(same), post(same)]);
    // In one group the second insert of dup-same fails; alone, after the first committed, it fails the same way.
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect(await stored([other, same])).toEqual({ notes: [other, same], outbox: 2 });
  });

  it('given the database unavailable in one member, then every member of its group gets the 503', async () => {
    const noteIds = ids('down', 4);
    const results = await Promise.allSettled(noteIds.map((id, i) => post(id, i === 2 ? 'down' : 'ok')));

    for (const result of results) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(DependencyUnavailableError);
    }
    expect(await stored(noteIds)).toEqual({ notes: [], outbox: 0 });
  });

  it('given a member that hangs, then it times out, the others commit, and its late write lands nowhere', async () => {
    const timed = envWith({ timeoutMs: 100 });
    const noteIds = ids('hang', 4);
    const results = await Promise.allSettled(
      noteIds.map((id, i) => post(id, i === 2 ? 'hang' : 'ok', {}, timed)),
    );
    await Promise.all(hung.splice(0));

    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(HandlerTimeoutError);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(await stored(noteIds)).toEqual({ notes: [noteIds[0], noteIds[1], noteIds[3]], outbox: 3 });
  });

  it('runs requests with an Idempotency-Key alone, each in its own transaction', async () => {
    await Promise.all(ids('keyed', 5).map((id, i) => post(id, 'ok', { 'idempotency-key': `k-${i}` })));
    expect(transactions).toBe(5);
  });

  it('runs GET requests alone, each in its own transaction', async () => {
    const readNote = defineHttpFunction({ ...addNote, id: 'read-note', method: 'GET' });
    await Promise.all(
      ids('read', 5).map((id) =>
        invokeHttpFunction(
          readNote,
          { params: { id }, body: { text: 'read', behaviour: 'ok' }, query: {}, headers: {} },
          env,
          meta(),
        ),
      ),
    );
    expect(transactions).toBe(5);
  });

  it('runs every request in its own transaction with groupCommit: false', async () => {
    await Promise.all(ids('off', 5).map((id) => post(id, 'ok', {}, envWith(false))));
    expect(transactions).toBe(5);
  });
});
