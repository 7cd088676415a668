/**
 * Tracing switched on by the standard environment alone: `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at an OTLP/HTTP
 * receiver started here, `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`. A request through the HTTP binding must arrive
 * there as JSON, with the service name and the server span's attributes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTracing, type Tracing, tracingRequested } from '../../app/tracing.ts';
import type { Ports } from '../../runtime/define.ts';
import { createHttpApp } from '../../runtime/http/app.ts';

const received: { path: string; contentType: string; body: string }[] = [];
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => {
    body += chunk;
  });
  request.on('end', () => {
    received.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
const saved = { ...process.env };

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  delete process.env.OTEL_SERVICE_NAME;
  delete process.env.OTEL_TRACES_EXPORTER;
});

afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => receiver.close(resolve));
});

/** An HTTP app with no functions (`/healthz`, `/readyz`) traced by `tracing`. */
const appWith = (tracing: Tracing) =>
  createHttpApp({
    functions: [],
    env: {
      stores: {},
      ports: {} as Ports,
      clock: () => new Date(),
      logger: pino({ level: 'silent' }),
      tracer: tracing.tracer,
    },
  });

it('is off unless the environment asks, and names the standard variables', () => {
  expect(tracingRequested({})).toBe(false);
  expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toBe(
    false,
  );
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toBe(true);
  expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
});

it('sends the spans of a request as OTLP/HTTP JSON to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
  const tracing = await startTracing({ serviceName: 'get-order' });
  expect(tracing).toBeDefined();
  const app = appWith(tracing!);
  expect((await app.request('/healthz')).status).toBe(200);
  await tracing!.shutdown(); // flushes the batch processor

  const traces = received.filter((r) => r.path === '/v1/traces');
  expect(traces.length).toBeGreaterThanOrEqual(1);
  expect(traces[0]!.contentType).toContain('application/json');
  const payload = JSON.parse(traces[0]!.body) as {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: {
        spans: {
          name: string;
          kind: number;
          traceId: string;
          attributes: { key: string; value: unknown }[];
        }[];
      }[];
    }[];
  };
  const resource = payload.resourceSpans[0]!.resource.attributes;
  expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'get-order' } });
  const span = payload.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  expect(span.name).toBe('GET /healthz');
  expect(span.kind).toBe(2); // SPAN_KIND_SERVER
  expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(span.attributes).toContainEqual({ key: 'http.route', value: { stringValue: '/healthz' } });
});

it('can be started again in the same process after a stop (benchmarks and tests start several systems)', async () => {
  const before = received.length;
  for (const round of [1, 2]) {
    const tracing = await startTracing({ serviceName: `round-${round}` });
    const app = appWith(tracing!);
    expect((await app.request('/readyz')).status).toBe(200);
    await tracing!.shutdown();
  }
  const names = received
    .slice(before)
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) => JSON.stringify(JSON.parse(r.body)).match(/round-\d/g) ?? []);
  expect([...new Set(names)].sort()).toEqual(['round-1', 'round-2']);
});
