/**
 * One order is one trace: the whole system on the embedded broker with the OpenTelemetry SDK and an in-memory
 * span exporter. The HTTP server span, its transaction, the relay's publish, process-payment, and
 * apply-payment-result / ship-order after the next publish, linked parent to child through the outbox row and
 * the Kafka headers; an incoming `traceparent` is continued.
 */
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing } from '../../app/tracing.ts';
import { waitFor } from '../../runtime/kafka/test-kit.ts';
import { type EmbeddedSystem, startEmbeddedSystem } from './embedded-system.ts';

const exporter = new InMemorySpanExporter();
let running: EmbeddedSystem;
let url: string;

beforeAll(async () => {
  const tracing = await startTracing({
    serviceName: 'orderflow',
    env: {},
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  running = await startEmbeddedSystem({ partitions: 2, tracing: tracing! });
  ({ url } = running);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

async function post(orderId: string, amount: number, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ orderId, amount }),
  });
  expect(response.status).toBe(201);
}

/** The spans of one order, once the consumer spans of every function in `last` have ended. */
async function orderSpans(orderId: string, last: readonly string[]): Promise<ReadableSpan[]> {
  return waitFor(
    async () => {
      const spans = exporter.getFinishedSpans();
      const mine = spans.filter((s) => s.attributes['orderflow.order.id'] === orderId);
      const ended = (fn: string) =>
        mine.some((s) => s.attributes['orderflow.function'] === fn && s.kind === 4);
      if (!last.every(ended)) return undefined;
      const traceIds = new Set(mine.map((s) => s.spanContext().traceId));
      return spans.filter((s) => traceIds.has(s.spanContext().traceId));
    },
    { timeoutMs: 30_000 },
  );
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('tracing across HTTP, the outbox and Kafka', () => {
  it('makes one trace of an order: POST → transaction → publish → process-payment → apply / ship', async () => {
    await post('trace-1', 50);
    const spans = await orderSpans('trace-1', ['apply-payment-result', 'ship-order']);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);

    const one = (predicate: (s: ReadableSpan) => boolean, what: string) => {
      const found = spans.filter(predicate);
      expect(found, what).toHaveLength(1);
      return found[0]!;
    };
    const consumerOf = (fn: string) =>
      one((s) => s.kind === 4 && s.attributes['orderflow.function'] === fn, fn);

    const server = one((s) => s.name === 'POST /orders', 'server span');
    expect(server.kind).toBe(1); // SERVER
    expect(parentOf(server)).toBeUndefined();
    expect(server.attributes).toMatchObject({ 'http.route': '/orders', 'http.response.status_code': 201 });

    const ordersTx = one(
      (s) => s.name === 'transaction orders' && parentOf(s) === server.spanContext().spanId,
      'tx',
    );
    const requested = one((s) => s.name === 'publish payment-requests', 'publish payment-requests');
    expect(parentOf(requested)).toBe(ordersTx.spanContext().spanId);
    expect(requested.kind).toBe(3); // PRODUCER

    const processPayment = consumerOf('process-payment');
    expect(parentOf(processPayment)).toBe(requested.spanContext().spanId);
    expect(processPayment.attributes).toMatchObject({
      'messaging.destination.name': 'payment-requests',
      'messaging.consumer.group.name': 'payments',
      'orderflow.attempt': 1,
    });
    expect(typeof processPayment.attributes['messaging.kafka.offset']).toBe('number');
    expect(processPayment.attributes['messaging.destination.partition.id']).toMatch(/^[01]$/);
    expect(processPayment.attributes['messaging.message.id']).toEqual(expect.any(String));

    const paymentsTx = one(
      (s) => s.name === 'transaction payments' && parentOf(s) === processPayment.spanContext().spanId,
      'payments tx',
    );
    const completed = one((s) => s.name === 'publish payment-completed', 'publish payment-completed');
    expect(parentOf(completed)).toBe(paymentsTx.spanContext().spanId);
    for (const fn of ['apply-payment-result', 'ship-order'])
      expect(parentOf(consumerOf(fn)), fn).toBe(completed.spanContext().spanId);
  }, 60_000);

  it('continues an incoming traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await post('trace-2', 450, { traceparent: `00-${traceId}-${parent}-01` });
    const spans = await orderSpans('trace-2', ['apply-payment-result', 'notify-payment-failed']);
    const server = spans.find((s) => s.name === 'POST /orders')!;
    expect(server.spanContext().traceId).toBe(traceId);
    expect(parentOf(server)).toBe(parent);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(spans.filter((s) => s.kind === 4).map((s) => s.attributes['orderflow.function'])).toEqual(
      expect.arrayContaining(['process-payment', 'apply-payment-result', 'notify-payment-failed']),
    );
  }, 60_000);
});
