/**
 * The gateway in front of real HTTP servers on free ports: stand-in upstreams that record what reaches
 * them, then the real create-order and get-order functions (startSystem on PGlite and the embedded broker).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest } from '../functions/manifest.ts';
import type { RunningBroker } from '../local/kafka-broker/index.ts';
import { startLocalBroker } from '../local/local-broker.ts';
import { loadConfig } from '../runtime/config.ts';
import { createKafkaClient } from '../runtime/kafka/client.ts';
import { FAST_CONSUMER, headerText, readTopic, testLogger, waitFor } from '../runtime/kafka/test-kit.ts';
import { type GatewayRoute, gatewayRoutes, type RunningGateway, startGateway } from './gateway.ts';
import { defaultUpstream, loadGatewayConfig, upstreamVariable } from './gateway-config.ts';
import { type RunningSystem, startSystem } from './system.ts';

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A stand-in function container: answers every request with who it is and records what reached it. */
async function startUpstream(name: string, options: { delayMs?: number; readyStatus?: number } = {}) {
  const seen: Seen[] = [];
  const app = new Hono();
  app.get('/readyz', (c) => c.json({ status: 'x' }, (options.readyStatus ?? 200) as 200));
  app.all('*', async (c) => {
    const body = await c.req.text();
    seen.push({
      method: c.req.method,
      path: c.req.path + new URL(c.req.url).search,
      headers: c.req.header(),
      body,
    });
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    return c.json({ upstream: name }, 200, {
      'x-upstream': name,
      'x-request-id': c.req.header('x-request-id') ?? '',
    });
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL nothing listens on: a port that was just free. */
async function deadUrl(): Promise<string> {
  const upstream = await startUpstream('dead');
  await upstream.stop();
  return upstream.url;
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function collect(res: IncomingMessage): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    res.on('end', () =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
    );
  });
}

/** One request through a real socket with exactly the headers given (node:http; fetch adds its own). */
function rawRequest(
  url: string,
  headers: Record<string, string>,
  options: { method?: string; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers });
    req.on('response', (res) => collect(res).then(resolve, reject));
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A request as curl sends one with `-H 'Expect: 100-continue'`: headers first, the body only once the
 * server answered `100 Continue` (node:http's 'continue' event). `continued`: that interim answer came.
 */
function requestExpectingContinue(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string,
): Promise<RawAnswer & { continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(url, {
      method,
      headers: { ...headers, expect: '100-continue', 'content-length': String(Buffer.byteLength(body)) },
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => collect(res).then((answer) => resolve({ ...answer, continued }), reject));
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** `/orders/:id` → `/orders/o-1`. */
const concrete = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => `${name}-1`);

const routes = gatewayRoutes(manifest);
const httpFunctionIds = [...new Set(routes.map((r) => r.functionId))];

describe('gateway routes', () => {
  it('derive from the manifest: every path (aliases too) of every HTTP function, and nothing else', () => {
    const expected = manifest.flatMap((fn) =>
      fn.kind === 'http' ? fn.paths.map((path) => ({ functionId: fn.id, method: fn.method, path })) : [],
    );
    expect(routes).toEqual(expected);
    expect(routes).toContainEqual({ functionId: 'create-order', method: 'POST', path: '/order' });
    expect(httpFunctionIds.sort()).toEqual([
      'create-order',
      'get-order',
      'get-order-timeline',
      'list-orders',
    ]);
  });

  it('read upstreams from UPSTREAM_<ID>, defaulting to http://<id>:5000', () => {
    const config = loadGatewayConfig(httpFunctionIds, { UPSTREAM_GET_ORDER: 'http://10.0.0.7:8080' });
    expect(upstreamVariable('create-order')).toBe('UPSTREAM_CREATE_ORDER');
    expect(config.upstreams).toEqual({
      'create-order': defaultUpstream('create-order'),
      'get-order': 'http://10.0.0.7:8080',
      'get-order-timeline': defaultUpstream('get-order-timeline'),
      'list-orders': defaultUpstream('list-orders'),
    });
    expect(defaultUpstream('create-order')).toBe('http://create-order:5000');
    expect(() =>
      loadGatewayConfig(httpFunctionIds, {
        UPSTREAM_CREATE_ORDER: 'ftp://x',
        GATEWAY_TIMEOUT_MS: '0',
        PORT: 'x',
      }),
    ).toThrow(/PORT: .*\n.*GATEWAY_TIMEOUT_MS: .*\n.*UPSTREAM_CREATE_ORDER: must be an http/);
    expect(() =>
      loadGatewayConfig(httpFunctionIds, { UPSTREAM_GET_ORDER: 'ftp://svc:Upstream9@x/' }),
    ).toThrow('UPSTREAM_GET_ORDER: must be an http:// or https:// URL (got "ftp://svc:***@x/")');
  });
});

describe('gateway in front of stand-in upstreams', () => {
  const upstreams: Record<string, Awaited<ReturnType<typeof startUpstream>>> = {};
  let gateway: RunningGateway;

  beforeAll(async () => {
    for (const id of httpFunctionIds) upstreams[id] = await startUpstream(id);
    gateway = await startGateway({
      routes,
      upstreams: Object.fromEntries(httpFunctionIds.map((id) => [id, upstreams[id]!.url])),
      timeoutMs: 2_000,
      logger: testLogger(),
      port: 0,
      host: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(Object.values(upstreams).map((u) => u.stop()));
  });

  it.each(routes.map((route) => [`${route.method} ${route.path}`, route] as [string, GatewayRoute]))(
    '%s reaches its function with the request and correlation ids',
    async (_name, route) => {
      const upstream = upstreams[route.functionId]!;
      const before = upstream.seen.length;
      const path = `${concrete(route.path)}?a=1&a=2`;
      const body = route.method === 'GET' ? undefined : JSON.stringify({ amount: 50 });
      const res = await fetch(`${gateway.url}${path}`, {
        method: route.method,
        headers: {
          'content-type': 'application/json',
          'x-request-id': `req-${route.functionId}`,
          'x-correlation-id': 'flow-1',
          authorization: 'Bearer t',
        },
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ upstream: route.functionId });
      expect(res.headers.get('x-request-id')).toBe(`req-${route.functionId}`);
      expect(res.headers.get('x-correlation-id')).toBe('flow-1');
      expect(upstream.seen).toHaveLength(before + 1);
      const seen = upstream.seen.at(-1)!;
      expect(seen).toMatchObject({ method: route.method, path, body: body ?? '' });
      expect(seen.headers).toMatchObject({
        'x-request-id': `req-${route.functionId}`,
        'x-correlation-id': 'flow-1',
        'content-type': 'application/json',
        authorization: 'Bearer t',
        'x-forwarded-proto': 'http',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-host': new URL(gateway.url).host,
      });
      for (const [id, other] of Object.entries(upstreams)) {
        if (id !== route.functionId)
          expect(other.seen.every((s) => s.headers['x-request-id'] !== `req-${route.functionId}`)).toBe(true);
      }
    },
  );

  it('generates a request id when the client sends none (or an unsafe one), forwards it and echoes it', async () => {
    const res = await fetch(`${gateway.url}/orders/o-9`, { headers: { 'x-request-id': 'bad id <script>' } });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-correlation-id')).toBe(id);
    expect(upstreams['get-order']!.seen.at(-1)!.headers).toMatchObject({
      'x-request-id': id,
      'x-correlation-id': id,
    });
  });

  it('drops hop-by-hop headers and those the Connection header names', async () => {
    const res = await rawRequest(`${gateway.url}/orders/o-2`, {
      connection: 'keep-alive, x-hop',
      'x-hop': 'secret',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'proxy-authorization': 'Basic x',
      'proxy-connection': 'keep-alive',
      'x-end': 'kept',
    });
    expect(res.status).toBe(200);
    const headers = upstreams['get-order']!.seen.at(-1)!.headers;
    expect(headers['x-end']).toBe('kept');
    for (const name of ['x-hop', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection'])
      expect(headers[name]).toBeUndefined();
  });

  it('keeps its ids and x-forwarded-* when the Connection header names them', async () => {
    const res = await rawRequest(`${gateway.url}/orders/o-3`, {
      connection: 'x-request-id, x-correlation-id, x-forwarded-for, x-forwarded-host',
      'x-request-id': 'named-1',
      'x-correlation-id': 'named-flow',
      'x-forwarded-for': '203.0.113.7',
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('named-1');
    expect(upstreams['get-order']!.seen.at(-1)!.headers).toMatchObject({
      'x-request-id': 'named-1',
      'x-correlation-id': 'named-flow',
      'x-forwarded-for': '203.0.113.7, 127.0.0.1',
      'x-forwarded-host': new URL(gateway.url).host,
    });
  });

  it('answers a malformed Connection header with 400 in the error shape, reaching no function', async () => {
    const before = upstreams['get-order']!.seen.length;
    const res = await rawRequest(`${gateway.url}/orders/o-4`, {
      connection: 'keep-alive, not a token',
      'x-request-id': 'bad-conn',
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      status: 'error',
      code: 'bad_request',
      message: 'Invalid Connection header value: not a token',
      requestId: 'bad-conn',
    });
    expect(upstreams['get-order']!.seen).toHaveLength(before);
  });

  it('forwards a body sent with Expect: 100-continue and returns the upstream answer', async () => {
    const upstream = upstreams['create-order']!;
    const before = upstream.seen.length;
    const body = JSON.stringify({ amount: 50 });
    const res = await requestExpectingContinue(
      `${gateway.url}/orders`,
      'POST',
      { 'content-type': 'application/json', 'x-request-id': 'expect-1' },
      body,
    );
    expect(res.continued).toBe(true);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ upstream: 'create-order' });
    expect(res.headers['x-request-id']).toBe('expect-1');
    expect(upstream.seen).toHaveLength(before + 1);
    const seen = upstream.seen.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', path: '/orders', body });
    expect(seen.headers.expect).toBeUndefined();
    expect(seen.headers['x-request-id']).toBe('expect-1');
  });

  it('answers any other expectation with 417 in the error shape, reaching no function', async () => {
    const before = upstreams['create-order']!.seen.length;
    const res = await rawRequest(
      `${gateway.url}/orders`,
      { expect: 'x-gold-plated', 'content-type': 'application/json', 'x-request-id': 'expect-2' },
      { method: 'POST', body: '{"amount":50}' },
    );
    expect(res.status).toBe(417);
    expect(JSON.parse(res.body)).toEqual({
      status: 'error',
      code: 'expectation_failed',
      message: 'Expectation "x-gold-plated" is not supported (only 100-continue is)',
      requestId: 'expect-2',
    });
    expect(upstreams['create-order']!.seen).toHaveLength(before);
  });

  it('answers an undeclared route with 404 and a wrong method with 405, reaching no function', async () => {
    const counts = () => Object.values(upstreams).map((u) => u.seen.length);
    const before = counts();
    for (const path of ['/healthz/x', '/orders/o-1/items', '/readyz/../admin', '/', '/orders/']) {
      const res = await fetch(`${gateway.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({
        status: 'error',
        code: 'not_found',
        requestId: expect.any(String),
      });
    }
    const wrong = await fetch(`${gateway.url}/orders/o-1`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(await wrong.json()).toMatchObject({ status: 'error', code: 'method_not_allowed' });
    expect(counts()).toEqual(before);
  });

  it('answers /healthz itself and /readyz from every upstream', async () => {
    expect(await (await fetch(`${gateway.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ok',
      checks: Object.fromEntries(httpFunctionIds.map((id) => [`upstream:${id}`, 'ok'])),
    });
  });
});

describe('gateway when an upstream fails', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
  });

  async function gatewayTo(upstream: string, timeoutMs = 2_000) {
    const gateway = await startGateway({
      routes,
      upstreams: Object.fromEntries(httpFunctionIds.map((id) => [id, upstream])),
      timeoutMs,
      readyTimeoutMs: 300,
      logger: testLogger(),
      port: 0,
      host: '127.0.0.1',
    });
    stops.push(() => gateway.stop());
    return gateway;
  }

  it('answers 502 upstream_unavailable in the functions error shape when the upstream is down', async () => {
    const gateway = await gatewayTo(await deadUrl());
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'down-1' },
      body: '{"amount":5}',
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-request-id')).toBe('down-1');
    expect(await res.json()).toEqual({
      status: 'error',
      code: 'upstream_unavailable',
      message: 'create-order is unavailable',
      requestId: 'down-1',
    });
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'unavailable',
      checks: Object.fromEntries(httpFunctionIds.map((id) => [`upstream:${id}`, 'ECONNREFUSED'])),
    });
  });

  it('answers 504 upstream_timeout when the upstream does not answer in time', async () => {
    const slow = await startUpstream('slow', { delayMs: 3_000 });
    stops.push(() => slow.stop());
    const gateway = await gatewayTo(slow.url, 200);
    const started = performance.now();
    const res = await fetch(`${gateway.url}/orders/o-1`, { headers: { 'x-request-id': 'slow-1' } });
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({
      status: 'error',
      code: 'upstream_timeout',
      message: 'get-order did not answer within 200 ms',
      requestId: 'slow-1',
    });
  });

  it('reports an upstream that is not ready', async () => {
    const unready = await startUpstream('unready', { readyStatus: 503 });
    stops.push(() => unready.stop());
    const gateway = await gatewayTo(unready.url);
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()) as unknown).toMatchObject({ checks: { 'upstream:get-order': 'HTTP 503' } });
  });
});

describe('gateway in front of the real create-order and get-order functions', () => {
  let broker: RunningBroker;
  let system: RunningSystem;
  let gateway: RunningGateway;

  beforeAll(async () => {
    const logger = testLogger();
    const config = loadConfig({ DATA_DIR: 'memory://', PORT: '0', HOST: '127.0.0.1', TOPIC_PARTITIONS: '1' });
    broker = await startLocalBroker({ port: 0, partitions: 1, logger });
    const functions = manifest.filter((fn) => fn.id === 'create-order' || fn.id === 'get-order');
    system = await startSystem({
      config,
      functions,
      brokers: broker.brokers,
      logger,
      consumer: FAST_CONSUMER,
    });
    // One process hosts both functions here (one PGlite); in compose each has its own container.
    const upstream = system.host.url!;
    gateway = await startGateway({
      routes: routes.filter((r) => r.functionId === 'create-order' || r.functionId === 'get-order'),
      upstreams: { 'create-order': upstream, 'get-order': upstream },
      timeoutMs: 5_000,
      logger,
      port: 0,
      host: '127.0.0.1',
    });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await system?.stop();
    await broker?.stop();
  });

  it('creates an order through the gateway, reads it back, and the ids reach the emitted event', async () => {
    const created = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'gw-req-1',
        'x-correlation-id': 'gw-flow-1',
      },
      body: JSON.stringify({ orderId: 'gw-1', amount: '42.50' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('gw-req-1');
    expect(created.headers.get('x-correlation-id')).toBe('gw-flow-1');
    expect(await created.json()).toMatchObject({ orderId: 'gw-1', order: { status: 'PENDING' } });

    const read = await fetch(`${gateway.url}/orders/gw-1`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      orderId: 'gw-1',
      status: 'PENDING',
      paymentStatus: 'NOT_PAID',
    });

    const alias = await fetch(`${gateway.url}/order`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'gw-2', amount: 7 }),
    });
    expect(alias.status).toBe(201);

    const kafka = createKafkaClient({
      brokers: broker.brokers,
      clientId: 'gateway-test',
      logger: testLogger(),
    });
    const reader = await readTopic(kafka, 'payment-requests');
    try {
      const message = await waitFor(() => reader.messages.find((m) => m.key?.toString() === 'gw-1'), {
        timeoutMs: 20_000,
      });
      expect(headerText(message, 'correlation-id')).toBe('gw-flow-1');
      expect(headerText(message, 'causation-id')).toBe('gw-req-1');
    } finally {
      await reader.stop();
    }
  });

  it('creates an order from a client that sends Expect: 100-continue, as curl does', async () => {
    const res = await requestExpectingContinue(
      `${gateway.url}/orders`,
      'POST',
      { 'content-type': 'application/json', 'x-request-id': 'gw-expect-1' },
      JSON.stringify({ orderId: 'gw-expect-1', amount: '12.00' }),
    );
    expect(res.continued).toBe(true);
    expect(res.status).toBe(201);
    expect(res.headers['x-request-id']).toBe('gw-expect-1');
    expect(JSON.parse(res.body)).toMatchObject({
      orderId: 'gw-expect-1',
      order: { totalAmount: '12.00', status: 'PENDING' },
    });
  });

  it('passes the function’s own errors through unchanged', async () => {
    const missing = await fetch(`${gateway.url}/orders/nope-404`, { headers: { 'x-request-id': 'gw-404' } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 'error', code: 'not_found', requestId: 'gw-404' });
    const invalid = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: -1 }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ code: 'validation_failed', errors: expect.any(Array) });
  });
});
