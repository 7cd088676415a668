import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NoteAdded } from '../__fixtures__/events.ts';
import { createNotesFixture, type NotesFixture, notesStore } from '../__fixtures__/notes-store.ts';
import { defineHttpFunction, type InvocationMeta } from '../define.ts';
import {
  ConflictError,
  NonRetriableError,
  NotFoundError,
  PayloadTooLargeError,
  RetryLaterError,
  UnprocessableError,
  ValidationError,
} from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createTestEnv, invokeHttp, type TestEnv } from '../testing/index.ts';
import { createHttpApp } from './app.ts';

let fx: NotesFixture;
let env: TestEnv;
let logLines: Record<string, unknown>[];

beforeAll(async () => {
  fx = await createNotesFixture();
  env = createTestEnv({ stores: [fx.store] });
  logLines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).trim().split('\n')) logLines.push(JSON.parse(line));
      done();
    },
  });
  env.logger = createLogger({ level: 'info', destination: sink });
});
afterAll(() => fx.close());

let lastMeta: InvocationMeta | undefined;
const addNote = defineHttpFunction({
  id: 'add-note',
  method: 'POST',
  path: ['/notes/:id', '/v0/notes/:id'],
  store: notesStore,
  input: {
    params: z.object({ id: z.string().regex(/^n-\d+$/, 'must look like n-<digits>') }),
    body: z.object({ text: z.string().min(1), tags: z.array(z.string()).optional() }),
  },
  handler: async ({ input, deps, meta }) => {
    lastMeta = meta;
    await deps.db.add({ id: input.params.id, text: input.body.text });
    deps.emit(
      NoteAdded.create({ noteId: input.params.id, text: input.body.text }, { id: `e-${input.params.id}` }),
    );
    return { status: 201, body: { id: input.params.id }, headers: { location: `/notes/${input.params.id}` } };
  },
});

const throwers: Record<string, () => Error> = {
  'not-found': () => new NotFoundError('Note n-1 not found'),
  conflict: () => new ConflictError('Note exists'),
  unprocessable: () => new UnprocessableError('Key reused with another body'),
  'too-large': () => new PayloadTooLargeError('Too many items'),
  'retry-later': () => new RetryLaterError('Provider busy', { delayMs: 1500 }),
  'non-retriable': () => new NonRetriableError('Never'),
  validation: () =>
    new ValidationError('Bad amount', { details: [{ path: 'amount', message: 'must be positive' }] }),
  unknown: () => new Error('db password is hunter2'),
};
const failNote = defineHttpFunction({
  id: 'fail-note',
  method: 'GET',
  path: '/fail/:kind',
  store: notesStore,
  input: { params: z.object({ kind: z.string() }), query: z.object({ tag: z.array(z.string()).optional() }) },
  handler: async ({ input }) => {
    const make = throwers[input.params.kind];
    if (make) throw make();
    return input.params.kind === 'empty'
      ? { status: 204, body: undefined }
      : { status: 200, body: input.query };
  },
});

describe('HTTP binding: success and ids', () => {
  it('answers the handler result with its headers, and echoes a generated request id as correlation id', async () => {
    const res = await invokeHttp(addNote, { params: { id: 'n-1' }, body: { text: 'hello' } }, env);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 'n-1' });
    expect(res.headers.location).toBe('/notes/n-1');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-correlation-id']).toBe(res.headers['x-request-id']);
    expect(lastMeta).toEqual({
      functionId: 'add-note',
      correlationId: res.headers['x-request-id'],
      causationId: res.headers['x-request-id'],
      attempt: 1,
      route: { method: 'POST', path: '/notes/:id' },
    });
  });

  it('honours incoming request and correlation ids: into meta, response headers and emitted events', async () => {
    const headers = { 'x-request-id': 'req-42', 'x-correlation-id': 'flow-7' };
    const res = await invokeHttp(addNote, { path: '/v0/notes/n-2', body: { text: 'alias' }, headers }, env);
    expect(res.status).toBe(201);
    expect(res.headers).toMatchObject(headers);
    expect(lastMeta).toMatchObject({
      correlationId: 'flow-7',
      causationId: 'req-42',
      route: { method: 'POST', path: '/v0/notes/:id' },
    });
    const [row] = await fx.outbox('e-n-2');
    expect(row?.headers).toMatchObject({ 'correlation-id': 'flow-7', 'causation-id': 'req-42' });
  });

  it.each([
    ['too long', 'x'.repeat(129)],
    ['unsafe characters', 'a b\tc<script>'],
  ])('replaces a request id that is %s', async (_why, requestId) => {
    const res = await invokeHttp(
      failNote,
      { params: { kind: 'ok' }, headers: { 'x-request-id': requestId } },
      env,
    );
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes a repeated query parameter as an array', async () => {
    const res = await invokeHttp(failNote, { params: { kind: 'ok' }, query: { tag: ['a', 'b'] } }, env);
    expect(res.body).toEqual({ tag: ['a', 'b'] });
  });

  it('answers 204 with an empty body, and HEAD like GET without a body', async () => {
    expect(await invokeHttp(failNote, { params: { kind: 'empty' } }, env)).toMatchObject({
      status: 204,
      body: null,
    });
    expect(await invokeHttp(failNote, { params: { kind: 'ok' }, method: 'HEAD' }, env)).toMatchObject({
      status: 200,
      body: null,
    });
  });

  it('writes one access log line per request', async () => {
    const res = await invokeHttp(
      failNote,
      { params: { kind: 'ok' }, headers: { 'x-request-id': 'log-me' } },
      env,
    );
    expect(res.status).toBe(200);
    const line = logLines.find((l) => l.msg === 'request' && l.requestId === 'log-me');
    expect(line).toMatchObject({
      level: 'info',
      method: 'GET',
      path: '/fail/ok',
      status: 200,
      ms: expect.any(Number),
    });
  });
});

describe('HTTP binding: one error shape', () => {
  it('answers field issues as 400 validation_failed with paths', async () => {
    const res = await invokeHttp(addNote, { params: { id: 'bad' }, body: { text: '', tags: [1] } }, env);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      status: 'error',
      code: 'validation_failed',
      message: 'Request validation failed',
      errors: [
        { path: 'text', message: expect.any(String) },
        { path: 'tags.0', message: expect.any(String) },
        { path: 'params.id', message: 'must look like n-<digits>' },
      ],
      requestId: res.headers['x-request-id'],
    });
  });

  it.each([
    ['malformed JSON', { body: '{"text":', headers: {} }, /^Malformed JSON body/],
    [
      'a wrong content type',
      { body: 'text=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      /^Content-Type must be application\/json/,
    ],
  ])('answers %s with 400 and no field errors', async (_name, request, message) => {
    const res = await invokeHttp(addNote, { params: { id: 'n-3' }, ...request }, env);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      status: 'error',
      code: 'validation_failed',
      message: expect.stringMatching(message),
      requestId: expect.any(String),
    });
  });

  it.each([
    ['not-found', 404, 'not_found'],
    ['conflict', 409, 'conflict'],
    ['unprocessable', 422, 'unprocessable'],
    ['too-large', 413, 'payload_too_large'],
    ['retry-later', 503, 'retry_later'],
    ['non-retriable', 422, 'non_retriable'],
    ['validation', 400, 'validation_failed'],
  ])('maps a thrown %s error to %i %s', async (kind, status, code) => {
    const res = await invokeHttp(failNote, { params: { kind } }, env);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({
      status: 'error',
      code,
      message: throwers[kind]!().message,
      requestId: res.headers['x-request-id'],
    });
  });

  it('says when to retry a RetryLaterError', async () => {
    expect(
      (await invokeHttp(failNote, { params: { kind: 'retry-later' } }, env)).headers['retry-after'],
    ).toBe('2');
  });

  it('answers an unknown error with a 500 that leaks nothing, and logs its stack', async () => {
    const res = await invokeHttp(
      failNote,
      { params: { kind: 'unknown' }, headers: { 'x-request-id': 'boom-1' } },
      env,
    );
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      status: 'error',
      code: 'internal',
      message: 'Internal error',
      requestId: 'boom-1',
    });
    const logged = logLines.find((l) => l.level === 'error' && l.requestId === 'boom-1') as {
      err: { stack: string };
    };
    expect(logged.err.stack).toContain('hunter2');
  });

  it('answers a body over the limit with 413, with or without content-length', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(200) });
    const res = await invokeHttp(addNote, { params: { id: 'n-4' }, body: big }, env, { bodyLimit: 100 });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ status: 'error', code: 'payload_too_large' });

    const app = createHttpApp({ functions: [addNote], env, bodyLimit: 100 });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await app.request('/notes/n-4', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await fx.store.repo.get('n-4')).toBeUndefined();
  });

  it('applies the body limit on @hono/node-server by Content-Length and, for chunked bodies, by counting', async () => {
    const app = createHttpApp({ functions: [addNote], env, bodyLimit: 100 });
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    const post = (id: string, body: string, chunked: boolean) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: `/notes/${id}`,
            headers: {
              'content-type': 'application/json',
              ...(chunked
                ? { 'transfer-encoding': 'chunked' }
                : { 'content-length': Buffer.byteLength(body) }),
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        if (chunked) for (let i = 0; i < body.length; i += 10) req.write(body.slice(i, i + 10));
        else req.write(body);
        req.end();
      });
    try {
      const big = JSON.stringify({ text: 'x'.repeat(200) });
      expect(await post('n-41', big, false)).toBe(413);
      expect(await post('n-42', big, true)).toBe(413);
      expect(await post('n-43', JSON.stringify({ text: 'fits' }), false)).toBe(201);
      expect(await post('n-44', JSON.stringify({ text: 'fits too' }), true)).toBe(201);
      expect(await fx.store.repo.get('n-41')).toBeUndefined();
      expect(await fx.store.repo.get('n-42')).toBeUndefined();
      expect(await fx.store.repo.get('n-44')).toEqual({ id: 'n-44', text: 'fits too' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers an unknown route with 404 and a wrong method with 405 + Allow', async () => {
    const app = createHttpApp({ functions: [addNote, failNote], env });
    const missing = await app.request('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      status: 'error',
      code: 'not_found',
      message: 'No route for GET /nope',
    });
    expect(missing.headers.get('x-request-id')).toBeTruthy();

    const wrong = await app.request('/notes/n-1', { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await wrong.json()).toMatchObject({ status: 'error', code: 'method_not_allowed' });
  });
});

describe('HTTP binding: health', () => {
  it('answers liveness, and readiness from the stores by default', async () => {
    const app = createHttpApp({ functions: [], env });
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { notes: 'ok' } });
  });

  it.each([
    [
      'reports not ready',
      async () => ({ ok: false, checks: { kafka: 'connection refused' } }),
      { kafka: 'connection refused' },
    ],
    ['throws', async () => Promise.reject(new Error('probe crashed')), { readiness: 'probe crashed' }],
  ])('answers 503 with the checks when readiness %s', async (_name, readiness, checks) => {
    const res = await createHttpApp({ functions: [], env, readiness }).request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', checks });
  });
});
