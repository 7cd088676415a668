import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RetryLaterError } from '../../runtime/index.ts';
import { createHttpProvider, retryAfterMs } from './http-provider.ts';

const request = { orderId: 'o-1', amountMinor: 5050n, currency: 'USD' };

describe('createHttpProvider against a local HTTP server', () => {
  interface Received {
    method: string | undefined;
    url: string | undefined;
    headers: IncomingHttpHeaders;
    body: string;
  }
  let server: Server;
  let base: string;
  let received: Received[];
  let reply: { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body });
        const timer = setTimeout(
          () => res.writeHead(reply.status, reply.headers).end(reply.body ?? ''),
          reply.delayMs ?? 0,
        );
        res.on('close', () => clearTimeout(timer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received = [];
    reply = { status: 200, body: '{"status":"approved","id":"ch_1"}' };
  });

  const charge = (timeoutMs?: number) =>
    createHttpProvider({ url: base, ...(timeoutMs === undefined ? {} : { timeoutMs }) }).charge(request);

  it('POSTs the charge as JSON to /charges with the order id as Idempotency-Key', async () => {
    await charge();
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe('POST');
    expect(received[0]!.url).toBe('/v1/charges');
    expect(received[0]!.headers['idempotency-key']).toBe('o-1');
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received[0]!.body)).toEqual({ orderId: 'o-1', amount: '50.50', currency: 'USD' });
  });

  it('maps an approval to COMPLETED with the provider id as reference', async () => {
    expect(await charge()).toEqual({ status: 'COMPLETED', providerRef: 'ch_1' });
  });

  it('maps a decline (any 2xx) to FAILED with its reason', async () => {
    reply = { status: 201, body: '{"status":"declined","reason":"insufficient funds"}' };
    expect(await charge()).toEqual({ status: 'FAILED', reason: 'insufficient funds' });
  });

  it.each([500, 502, 503, 429])('answers %i: RetryLaterError', async (status) => {
    reply = { status, body: 'busy' };
    const error = await charge().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as RetryLaterError).message).toContain(`answered ${status}`);
    expect((error as RetryLaterError).delayMs).toBeUndefined();
  });

  it('honours Retry-After seconds as delayMs', async () => {
    reply = { status: 503, headers: { 'retry-after': '7' } };
    expect(await charge().catch((e: RetryLaterError) => e.delayMs)).toBe(7_000);
  });

  it('a response slower than the timeout: RetryLaterError naming the timeout', async () => {
    reply = { status: 200, body: '{"status":"approved","id":"ch_1"}', delayMs: 2_000 };
    const started = performance.now();
    const error = await charge(100).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as Error).message).toContain('timed out after 100 ms');
  });

  it('a refused connection: RetryLaterError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await createHttpProvider({ url: `http://127.0.0.1:${port}` })
      .charge(request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it.each([400, 402, 404, 409, 422])('answers %i: a plain Error with the status and body', async (status) => {
    reply = { status, body: '{"error":"bad"}' };
    const error = await charge().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(RetryLaterError);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`answered ${status}: {"error":"bad"}`);
  });

  it.each(['not json', '{"status":"approved"}', '{"status":"maybe"}', ''])(
    'a 2xx body of another shape (%j): a plain Error',
    async (body) => {
      reply = { status: 200, body };
      const error = await charge().catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(RetryLaterError);
      expect((error as Error).message).toContain('neither approved nor declined');
    },
  );
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['3', 3_000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['999999', 60_000],
  ])('%j → %i ms', (value, ms) => {
    expect(retryAfterMs(value, now, 60_000)).toBe(ms);
  });
  it.each([null, '', 'soon', '-1', '1.5'])('%j → undefined', (value) => {
    expect(retryAfterMs(value, now, 60_000)).toBeUndefined();
  });
});
