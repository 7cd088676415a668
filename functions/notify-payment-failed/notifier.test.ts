import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../db/orders/repo.ts';
import { NonRetriableError, RetryLaterError } from '../../runtime/index.ts';
import { createLogNotifier, createWebhookNotifier } from './notifier.ts';

const notification = (overrides: Partial<Notification> = {}): Notification => ({
  id: '8a1c0d2e-1111-8222-9333-444455556666',
  orderId: 'o-1',
  kind: 'payment-failed',
  channel: 'webhook',
  message: 'Payment of 300.01 USD for order o-1 failed: insufficient funds',
  createdAt: new Date('2026-01-01T00:00:00.000Z'),
  ...overrides,
});

describe('createLogNotifier', () => {
  it('writes one structured line at warn', async () => {
    const lines: unknown[][] = [];
    const notifier = createLogNotifier({ warn: (...args: unknown[]) => void lines.push(args) } as never);
    await notifier.send(notification());
    expect(notifier.channel).toBe('log');
    expect(lines).toEqual([
      [
        { notificationId: notification().id, orderId: 'o-1', kind: 'payment-failed' },
        'Payment of 300.01 USD for order o-1 failed: insufficient funds',
      ],
    ]);
  });
});

describe('createWebhookNotifier against a local HTTP server', () => {
  interface Received {
    method: string | undefined;
    headers: IncomingHttpHeaders;
    body: string;
  }
  let server: Server;
  let url: string;
  let received: Received[];
  let reply: { status: number; headers?: Record<string, string>; delayMs?: number };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        received.push({ method: req.method, headers: req.headers, body });
        setTimeout(() => res.writeHead(reply.status, reply.headers).end('{}'), reply.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/payments`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received = [];
    reply = { status: 204 };
  });

  it('POSTs the notification as JSON with the notification id as Idempotency-Key', async () => {
    await createWebhookNotifier({ url, timeoutMs: 2_000 }).send(notification());
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(notification().id);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      id: notification().id,
      kind: 'payment-failed',
      orderId: 'o-1',
      message: 'Payment of 300.01 USD for order o-1 failed: insufficient funds',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it.each([[500], [502], [503], [429]])(
    'given the receiver answers %i, then sending is retried later',
    async (status) => {
      reply = { status };
      await expect(createWebhookNotifier({ url }).send(notification())).rejects.toBeInstanceOf(
        RetryLaterError,
      );
    },
  );

  it('given a 503 with Retry-After seconds, then the retry waits that long', async () => {
    reply = { status: 503, headers: { 'retry-after': '7' } };
    await expect(createWebhookNotifier({ url }).send(notification())).rejects.toMatchObject({
      delayMs: 7_000,
    });
  });

  it.each([[400], [401], [404], [410], [422]])(
    'given the receiver answers %i, then sending is not retried',
    async (status) => {
      reply = { status };
      const sending = createWebhookNotifier({ url }).send(notification());
      await expect(sending).rejects.toBeInstanceOf(NonRetriableError);
      await expect(sending).rejects.toThrow(`answered ${status}`);
    },
  );

  it('given the receiver is too slow, then the send times out and is retried later', async () => {
    reply = { status: 204, delayMs: 500 };
    await expect(createWebhookNotifier({ url, timeoutMs: 50 }).send(notification())).rejects.toThrow(
      /timed out after 50 ms/,
    );
  });

  it('given nothing listens at the address, then the send is retried later', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const sending = createWebhookNotifier({ url: `http://127.0.0.1:${port}/` }).send(notification());
    await expect(sending).rejects.toBeInstanceOf(RetryLaterError);
  });
});
