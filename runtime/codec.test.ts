import { describe, expect, it } from 'vitest';
import { NoteAdded, NoteArchived } from './__fixtures__/events.ts';
import { decodeEvent, encodeEvent, type RawEventMessage } from './codec.ts';

const time = new Date('2030-01-02T03:04:05.000Z');

function toRaw(record: ReturnType<typeof encodeEvent>): RawEventMessage {
  return {
    key: Buffer.from(record.key),
    value: Buffer.from(record.value),
    headers: Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(v)])),
  };
}

function rawWithValue(value: unknown, headers: RawEventMessage['headers'] = {}): RawEventMessage {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { key: Buffer.from('n-1'), value: Buffer.from(text), headers };
}

const envelope = {
  id: '6f1d3c52-1c0a-4b8e-9a57-2f0d9f4c1e01',
  type: 'NoteAdded',
  version: 1,
  time: time.toISOString(),
  data: { noteId: 'n-1', text: 'hi' },
};

describe('encodeEvent', () => {
  it('writes the JSON envelope as value, the key, and string headers', () => {
    const message = NoteAdded.create(
      { noteId: 'n-1', text: 'hi' },
      { id: '6f1d3c52-1c0a-4b8e-9a57-2f0d9f4c1e01', time, correlationId: 'c-1', causationId: 'r-1' },
    );
    const record = encodeEvent(message);
    expect(record).toEqual({
      eventId: '6f1d3c52-1c0a-4b8e-9a57-2f0d9f4c1e01',
      topic: 'notes',
      key: 'n-1',
      value: JSON.stringify(envelope),
      headers: {
        'event-id': '6f1d3c52-1c0a-4b8e-9a57-2f0d9f4c1e01',
        'event-type': 'NoteAdded',
        'event-version': '1',
        'content-type': 'application/json',
        'correlation-id': 'c-1',
        'causation-id': 'r-1',
      },
    });
  });

  it('omits correlation and causation headers that are not set', () => {
    const record = encodeEvent(NoteAdded.create({ noteId: 'n-1', text: 'hi' }));
    expect(Object.keys(record.headers).sort()).toEqual([
      'content-type',
      'event-id',
      'event-type',
      'event-version',
    ]);
  });
});

describe('decodeEvent', () => {
  it('round-trips an encoded event, correlation and causation included', () => {
    const message = NoteAdded.create(
      { noteId: 'n-1', text: 'hi' },
      { time, correlationId: 'c-1', causationId: 'r-1' },
    );
    expect(decodeEvent(toRaw(encodeEvent(message)), [NoteAdded, NoteArchived])).toEqual({
      ok: true,
      message,
    });
  });

  it('round-trips without optional headers and with string headers', () => {
    const message = NoteArchived.create({ noteId: 'n-2' }, { time });
    const record = encodeEvent(message);
    const decoded = decodeEvent(
      { key: Buffer.from(record.key), value: Buffer.from(record.value), headers: record.headers },
      [NoteArchived],
    );
    expect(decoded).toEqual({ ok: true, message });
  });

  it('takes the topic from the definition and derives a missing key from the payload', () => {
    const decoded = decodeEvent({ ...rawWithValue(envelope), key: null }, [NoteAdded]);
    expect(decoded.ok && decoded.message).toMatchObject({ topic: 'notes', key: 'n-1' });
  });

  it.each([
    ['an empty value', { key: null, value: null, headers: {} }, 'empty message value'],
    ['malformed JSON', rawWithValue('{"id":'), /^malformed JSON: /],
    ['a non-object envelope', rawWithValue('[1,2]'), /^invalid envelope: /],
    ['an envelope without id', rawWithValue({ ...envelope, id: undefined }), /^invalid envelope: id: /],
    ['an id that is not a UUID', rawWithValue({ ...envelope, id: 'e-1' }), /^invalid envelope: id: /],
    ['a non-integer version', rawWithValue({ ...envelope, version: '1' }), /^invalid envelope: version: /],
    ['a bad time', rawWithValue({ ...envelope, time: 'yesterday' }), /^invalid envelope: time: /],
    ['no data', rawWithValue({ ...envelope, data: undefined }), 'invalid envelope: data: Required'],
    [
      'an unknown type',
      rawWithValue({ ...envelope, type: 'NoteDeleted' }),
      'unknown event type "NoteDeleted" (accepted: NoteAdded, NoteArchived)',
    ],
    [
      'an unknown version',
      rawWithValue({ ...envelope, version: 2 }),
      'unknown version 2 of NoteAdded (accepted: 1)',
    ],
    [
      'a payload failing the schema',
      rawWithValue({ ...envelope, data: { noteId: '', text: 'x'.repeat(101) } }),
      /^invalid NoteAdded v1 payload: noteId: .+; text: .+/,
    ],
  ] as const)('rejects %s with a precise reason', (_name, raw, reason) => {
    const decoded = decodeEvent(raw as RawEventMessage, [NoteAdded, NoteArchived]);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(reason);
  });

  it('uses the last value of a repeated header', () => {
    const decoded = decodeEvent(rawWithValue(envelope, { 'correlation-id': [Buffer.from('old'), 'new'] }), [
      NoteAdded,
    ]);
    expect(decoded.ok && decoded.message.correlationId).toBe('new');
  });
});

describe('event ids', () => {
  it('are canonicalised to lower case at decode, whatever case they were sent in', () => {
    const decoded = decodeEvent(rawWithValue({ ...envelope, id: envelope.id.toUpperCase() }), [NoteAdded]);
    expect(decoded.ok && decoded.message.id).toBe(envelope.id);
  });

  it('drops a correlation or causation id that is not 1–128 safe characters (a NUL, a newline, too long)', () => {
    for (const bad of ['a\u0000b', 'a\nb', 'x'.repeat(129)]) {
      const decoded = decodeEvent(
        rawWithValue(envelope, { 'correlation-id': Buffer.from(bad), 'causation-id': bad }),
        [NoteAdded],
      );
      expect(decoded.ok && [decoded.message.correlationId, decoded.message.causationId]).toEqual([
        undefined,
        undefined,
      ]);
    }
    const good = decodeEvent(rawWithValue(envelope, { 'correlation-id': 'req-1' }), [NoteAdded]);
    expect(good.ok && good.message.correlationId).toBe('req-1');
  });

  it('rejects a payload with a NUL in a text field (no text column stores it), naming why', () => {
    const decoded = decodeEvent(rawWithValue({ ...envelope, data: { noteId: 'n-1', text: 'a\u0000b' } }), [
      NoteAdded,
    ]);
    expect(decoded).toEqual({ ok: false, reason: expect.stringMatching(/U\+0000 \(NUL\)/) });
  });
});
