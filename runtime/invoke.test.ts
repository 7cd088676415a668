import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { NoteAdded, NoteArchived } from './__fixtures__/events.ts';
import { createNotesFixture, type NotesFixture, notesStore } from './__fixtures__/notes-store.ts';
import { defineEventFunction, defineHttpFunction, type InvocationMeta, type Ports } from './define.ts';
import { ConflictError, NonRetriableError, ValidationError } from './errors.ts';
import {
  BatchItemError,
  eventInvocationMeta,
  invokeEventBatch,
  invokeEventFunction,
  invokeHttpFunction,
  type RuntimeEnv,
} from './invoke.ts';

let fx: NotesFixture;
let env: RuntimeEnv;
const committed: string[] = [];
const now = new Date('2030-01-01T00:00:00.000Z');

beforeAll(async () => {
  fx = await createNotesFixture();
  env = {
    stores: { notes: fx.store },
    ports: {} as Ports,
    clock: () => now,
    logger: pino({ level: 'silent' }),
    onCommitted: (service) => committed.push(service),
  };
});
afterAll(() => fx.close());

const addNote = defineHttpFunction({
  id: 'add-note',
  method: 'POST',
  path: '/notes/:id',
  store: notesStore,
  input: {
    params: z.object({ id: z.string().regex(/^n-\d+$/, 'must look like n-<digits>') }),
    body: z.object({ text: z.string().min(1), fail: z.boolean().optional() }),
  },
  handler: async ({ input, deps, meta }) => {
    await deps.db.add({ id: input.params.id, text: input.body.text });
    deps.emit(NoteAdded.create({ noteId: input.params.id, text: input.body.text }, { time: deps.clock() }));
    if (input.body.fail) throw new ConflictError('handler failed after writing');
    return { status: 201, body: { id: input.params.id, correlationId: meta.correlationId } };
  },
});

function httpMeta(requestId: string): InvocationMeta {
  return { functionId: 'add-note', correlationId: `corr-${requestId}`, causationId: requestId, attempt: 1 };
}

describe('invokeHttpFunction', () => {
  it('reports every field issue of every part, with paths', async () => {
    const raw = { params: { id: 'x' }, body: { text: 5 }, query: {}, headers: {} };
    const error = await invokeHttpFunction(addNote, raw, env, httpMeta('r-0')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([
      { path: 'text', message: expect.any(String) },
      { path: 'params.id', message: 'must look like n-<digits>' },
    ]);
  });

  it('names a missing body "body"', async () => {
    const raw = { params: { id: 'n-9' }, body: undefined, query: {}, headers: {} };
    const error = (await invokeHttpFunction(addNote, raw, env, httpMeta('r-9')).catch(
      (e: unknown) => e,
    )) as ValidationError;
    expect(error.details).toEqual([{ path: 'body', message: expect.stringContaining('expected object') }]);
  });

  it('commits the write and the outbox row together, with correlation and causation from meta', async () => {
    committed.length = 0;
    const raw = { params: { id: 'n-1' }, body: { text: 'hello' }, query: {}, headers: {} };
    const result = await invokeHttpFunction(addNote, raw, env, httpMeta('r-1'));
    expect(result).toEqual({ status: 201, body: { id: 'n-1', correlationId: 'corr-r-1' } });
    expect(await fx.store.repo.get('n-1')).toEqual({ id: 'n-1', text: 'hello' });
    const rows = (await fx.outbox()).filter((row) => row.key === 'n-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      topic: 'notes',
      headers: { 'event-type': 'NoteAdded', 'correlation-id': 'corr-r-1', 'causation-id': 'r-1' },
    });
    expect(JSON.parse(rows[0]!.value)).toMatchObject({ type: 'NoteAdded', time: now.toISOString() });
    expect(committed).toEqual(['notes']);
  });

  it('rolls back the write and the outbox row when the handler throws', async () => {
    committed.length = 0;
    const raw = { params: { id: 'n-2' }, body: { text: 'doomed', fail: true }, query: {}, headers: {} };
    await expect(invokeHttpFunction(addNote, raw, env, httpMeta('r-2'))).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await fx.store.repo.get('n-2')).toBeUndefined();
    expect((await fx.outbox()).filter((row) => row.key === 'n-2')).toEqual([]);
    expect(committed).toEqual([]);
  });

  it('keeps correlation and causation the handler set itself', async () => {
    const fn = defineHttpFunction({
      id: 'emit-traced',
      method: 'POST',
      path: '/traced',
      store: notesStore,
      input: {},
      handler: async ({ deps }) => {
        deps.emit(
          NoteArchived.create(
            { noteId: 'n-traced' },
            { id: 'e-traced', correlationId: 'own', causationId: 'cause' },
          ),
        );
        return { status: 202, body: null };
      },
    });
    await invokeHttpFunction(
      fn,
      { params: {}, body: undefined, query: {}, headers: {} },
      env,
      httpMeta('r-3'),
    );
    const [row] = await fx.outbox('e-traced');
    expect(row?.headers).toMatchObject({ 'correlation-id': 'own', 'causation-id': 'cause' });
  });

  it('fails with a plain error when the service has no store', async () => {
    await expect(
      invokeHttpFunction(
        addNote,
        { params: { id: 'n-5' }, body: { text: 'x' }, query: {}, headers: {} },
        { ...env, stores: {} },
        httpMeta('r-5'),
      ),
    ).rejects.toThrow('no store for service "notes" (needed by add-note)');
  });
});

describe('invokeEventFunction', () => {
  const seen: string[] = [];
  const archiveNote = defineEventFunction({
    id: 'archive-note',
    events: [NoteAdded],
    groupId: 'archivist',
    store: notesStore,
    handler: async ({ event, deps }) => {
      seen.push(event.id);
      if (event.data.text === 'boom') throw new Error('transient');
      await deps.db.add({ id: `archived-${event.data.noteId}`, text: event.data.text });
      deps.emit(NoteArchived.create({ noteId: event.data.noteId }));
    },
  });

  it('handles an event once, and skips the redelivered duplicate without running the handler', async () => {
    const message = NoteAdded.create({ noteId: 'n-10', text: 'once' }, { correlationId: 'flow-10' });
    const meta = eventInvocationMeta(archiveNote, message);
    expect(meta).toMatchObject({
      functionId: 'archive-note',
      correlationId: 'flow-10',
      causationId: message.id,
      attempt: 1,
    });
    expect(await invokeEventFunction(archiveNote, message, env, meta)).toBe('handled');
    expect(await invokeEventFunction(archiveNote, message, env, meta)).toBe('duplicate');
    expect(seen.filter((id) => id === message.id)).toHaveLength(1);
    expect(await fx.inboxCount('archivist', message.id)).toBe(1);
    const emitted = (await fx.outbox()).filter((row) => row.topic === 'notes-archived' && row.key === 'n-10');
    expect(emitted).toHaveLength(1);
    expect(emitted[0]?.headers).toMatchObject({ 'correlation-id': 'flow-10', 'causation-id': message.id });
  });

  it('rolls back the inbox record with the handler error, so a retry runs the handler again', async () => {
    const message = NoteAdded.create({ noteId: 'n-11', text: 'boom' });
    const meta = eventInvocationMeta(archiveNote, message);
    await expect(invokeEventFunction(archiveNote, message, env, meta)).rejects.toThrow('transient');
    expect(await fx.inboxCount('archivist', message.id)).toBe(0);
    await expect(invokeEventFunction(archiveNote, message, env, { ...meta, attempt: 2 })).rejects.toThrow(
      'transient',
    );
    expect(seen.filter((id) => id === message.id)).toHaveLength(2);
  });

  it('rejects, non-retriably, an event the function does not consume', async () => {
    const message = NoteArchived.create({ noteId: 'n-12' });
    const spy = vi.fn();
    await expect(
      invokeEventFunction(
        { ...archiveNote, handler: spy },
        message,
        env,
        eventInvocationMeta(archiveNote, message),
      ),
    ).rejects.toBeInstanceOf(NonRetriableError);
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('invokeEventBatch', () => {
  const archiveAll = defineEventFunction({
    id: 'archive-all',
    events: [NoteAdded],
    groupId: 'batch-archivist',
    store: notesStore,
    handler: async ({ event, deps }) => {
      if (event.data.text === 'boom') throw new NonRetriableError('cannot archive');
      await deps.db.add({ id: `batch-${event.data.noteId}`, text: event.data.text });
      deps.emit(NoteArchived.create({ noteId: event.data.noteId }));
    },
  });
  const items = (...messages: ReturnType<typeof NoteAdded.create>[]) =>
    messages.map((message) => ({ message, meta: eventInvocationMeta(archiveAll, message) }));

  it('handles every event once in one transaction and writes their outbox rows in event order', async () => {
    committed.length = 0;
    const a = NoteAdded.create({ noteId: 'b-1', text: 'one' });
    const b = NoteAdded.create({ noteId: 'b-2', text: 'two' });
    expect(await invokeEventBatch(archiveAll, items(a, b, a), env)).toEqual([
      'handled',
      'handled',
      'duplicate',
    ]);
    expect(await invokeEventBatch(archiveAll, items(b), env)).toEqual(['duplicate']);
    expect(await fx.store.repo.get('batch-b-1')).toEqual({ id: 'batch-b-1', text: 'one' });
    const rows = (await fx.outbox()).filter(
      (row) => row.topic === 'notes-archived' && row.key.startsWith('b-'),
    );
    expect(rows.map((row) => row.key)).toEqual(['b-1', 'b-2']);
    expect(rows[1]?.headers).toMatchObject({ 'causation-id': b.id });
    expect(committed).toEqual(['notes']); // one commit, one nudge
  });

  it('rolls the whole batch back and names the item that failed', async () => {
    const ok = NoteAdded.create({ noteId: 'b-10', text: 'fine' });
    const bad = NoteAdded.create({ noteId: 'b-11', text: 'boom' });
    const error = await invokeEventBatch(archiveAll, items(ok, bad), env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchItemError);
    expect((error as BatchItemError).index).toBe(1);
    expect((error as BatchItemError).cause).toBeInstanceOf(NonRetriableError);
    expect(await fx.store.repo.get('batch-b-10')).toBeUndefined();
    expect(await fx.inboxCount('batch-archivist', ok.id)).toBe(0);
    expect((await fx.outbox()).filter((row) => row.key === 'b-10')).toEqual([]);
  });
});
