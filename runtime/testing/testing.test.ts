import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NoteAdded, NoteArchived } from '../__fixtures__/events.ts';
import { createNotesFixture, type NotesFixture, notesStore } from '../__fixtures__/notes-store.ts';
import { EventDecodeError } from '../codec.ts';
import { defineEventFunction } from '../define.ts';
import { NonRetriableError } from '../errors.ts';
import { createTestEnv, invokeEvent, type TestEnv, toRawMessage } from './index.ts';
import { fillPath } from './invoke-http.ts';

let fx: NotesFixture;
let env: TestEnv;
beforeAll(async () => {
  fx = await createNotesFixture();
  env = createTestEnv({ stores: [fx.store], now: '2030-05-01T00:00:00Z' });
});
afterAll(() => fx.close());

const handled = vi.fn();
const archive = defineEventFunction({
  id: 'archive-note',
  events: [NoteAdded],
  groupId: 'archivist',
  store: notesStore,
  handler: async ({ event, deps, meta }) => {
    handled(event, meta);
    await deps.db.add({ id: `a-${event.data.noteId}`, text: deps.clock().toISOString() });
    deps.emit(NoteArchived.create({ noteId: event.data.noteId }));
  },
});

describe('createTestEnv', () => {
  it('has a clock that only moves when told', () => {
    const local = createTestEnv({ stores: {} });
    expect(local.clock().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(local.advance(1500).toISOString()).toBe('2030-01-01T00:00:01.500Z');
    local.setTime('2031-02-03T04:05:06Z');
    expect(local.clock().toISOString()).toBe('2031-02-03T04:05:06.000Z');
  });

  it('rejects an invalid start time', () => {
    expect(() => createTestEnv({ stores: {}, now: 'soon' })).toThrow('invalid start time');
  });
});

describe('invokeEvent', () => {
  it('handles an event message, then skips it when delivered twice', async () => {
    handled.mockClear();
    const event = NoteAdded.create({ noteId: 'n-1', text: 'hi' }, { correlationId: 'flow-1' });
    expect(await invokeEvent(archive, event, env, { attempt: 3 })).toBe('handled');
    expect(await invokeEvent(archive, event, env)).toBe('duplicate');
    expect(handled).toHaveBeenCalledTimes(1);
    expect(handled.mock.calls[0]?.[1]).toEqual({
      functionId: 'archive-note',
      correlationId: 'flow-1',
      causationId: event.id,
      attempt: 3,
    });
    expect(await fx.store.repo.get('a-n-1')).toEqual({ id: 'a-n-1', text: '2030-05-01T00:00:00.000Z' });
    expect(env.committed).toEqual(['notes']);
  });

  it('decodes a raw Kafka message first', async () => {
    handled.mockClear();
    const event = NoteAdded.create({ noteId: 'n-2', text: 'raw' }, { correlationId: 'flow-2' });
    expect(await invokeEvent(archive, toRawMessage(event), env)).toBe('handled');
    expect(handled.mock.calls[0]?.[0]).toEqual(event);
  });

  it.each([
    [
      'malformed JSON',
      (raw: ReturnType<typeof toRawMessage>) => ({ ...raw, value: Buffer.from('{') }),
      /malformed JSON/,
    ],
    [
      'an invalid payload',
      (raw: ReturnType<typeof toRawMessage>) => ({
        ...raw,
        value: Buffer.from(raw.value!.toString().replace('"n-3"', '""')),
      }),
      /invalid NoteAdded v1 payload: noteId/,
    ],
  ])(
    'rejects %s with a non-retriable EventDecodeError, without running the handler',
    async (_name, tamper, reason) => {
      handled.mockClear();
      const raw = tamper(toRawMessage(NoteAdded.create({ noteId: 'n-3', text: 'x' })));
      const error = await invokeEvent(archive, raw, env).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventDecodeError);
      expect(error).toBeInstanceOf(NonRetriableError);
      expect((error as Error).message).toMatch(reason);
      expect(handled).not.toHaveBeenCalled();
    },
  );

  it('rejects an event of a type the function does not consume', async () => {
    await expect(
      invokeEvent(archive, toRawMessage(NoteArchived.create({ noteId: 'n-4' })), env),
    ).rejects.toThrow(/unknown event type "NoteArchived"/);
  });
});

describe('fillPath', () => {
  it('fills named, optional and pattern segments, encoding values', () => {
    expect(fillPath('/orders/:id', { id: 'o 1/2' })).toBe('/orders/o%201%2F2');
    expect(fillPath('/a/:x{[0-9]+}/:y?', { x: '7' })).toBe('/a/7/');
    expect(() => fillPath('/orders/:id', {})).toThrow('missing params.id');
  });
});
