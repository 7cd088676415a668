/**
 * Group commit keeps each request's trace: its own `transaction <service>` span under its own server span,
 * and the events it emits carry its own trace, even when its body ran in a transaction shared with others.
 */
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTracing, type Tracing } from '../../app/tracing.ts';
import { NoteAdded } from '../../runtime/__fixtures__/events.ts';
import { createNotesFixture, type NotesFixture, notesStore } from '../../runtime/__fixtures__/notes-store.ts';
import { defineHttpFunction, type Ports } from '../../runtime/define.ts';
import { invokeHttpFunction, type RuntimeEnv } from '../../runtime/invoke.ts';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let fx: NotesFixture;
let env: RuntimeEnv;

beforeAll(async () => {
  tracing = (await startTracing({
    serviceName: 'orderflow',
    env: {},
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  }))!;
  fx = await createNotesFixture();
  env = {
    stores: { notes: fx.store },
    ports: {} as Ports,
    clock: () => new Date('2030-01-01T00:00:00.000Z'),
    logger: pino({ level: 'silent' }),
    tracer: tracing.tracer,
  };
});
afterAll(async () => {
  await fx.close();
  await tracing.shutdown();
});

const addNote = defineHttpFunction({
  id: 'add-note',
  method: 'POST',
  path: '/notes/:id',
  store: notesStore,
  input: { params: z.object({ id: z.string() }) },
  handler: async ({ input, deps }) => {
    await deps.db.add({ id: input.params.id, text: 'traced' });
    deps.emit(NoteAdded.create({ noteId: input.params.id, text: 'traced' }, { time: deps.clock() }));
    return { status: 201, body: {} };
  },
});

/** One request under its own server span; resolves that span's trace id. */
const request = (id: string) =>
  tracing.tracer.startActiveSpan(`POST ${id}`, async (server) => {
    await invokeHttpFunction(addNote, { params: { id }, body: undefined, query: {}, headers: {} }, env, {
      functionId: 'add-note',
      correlationId: id,
      causationId: id,
      attempt: 1,
    });
    server.end();
    return { id, traceId: server.spanContext().traceId, spanId: server.spanContext().spanId };
  });

describe('group commit and tracing', () => {
  it('gives each request of a group its own transaction span, and its events its own trace', async () => {
    const requests = await Promise.all(['t-0', 't-1', 't-2', 't-3'].map(request));

    const transactions = exporter.getFinishedSpans().filter((s) => s.name === 'transaction notes');
    expect(transactions).toHaveLength(4);
    const rows = await fx.outbox();
    for (const { id, traceId, spanId } of requests) {
      const span = transactions.find((s) => s.spanContext().traceId === traceId);
      expect(span?.parentSpanContext?.spanId).toBe(spanId);
      const row = rows.find((r) => r.key === id);
      expect(row?.headers.traceparent).toBe(`00-${traceId}-${span?.spanContext().spanId}-01`);
    }
    // Sent together, the four shared one transaction.
    expect(transactions.map((s) => s.attributes['orderflow.group_size']).sort()).toEqual([4, 4, 4, 4]);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
