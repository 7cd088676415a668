/**
 * Property-based fuzzing of the HTTP binding (issue 9): the system's Hono app (`runtime/http/app.ts`) with the
 * real create-order and get-order over a real PGlite database. Generated requests — known routes and random
 * ones, every method, odd headers and Idempotency-Keys, valid orders, malformed JSON, bodies over the limit,
 * odd unicode, lone surrogates, numbers at the edges — go through `app.request`, over a listening
 * `@hono/node-server` (as `runtime/host.ts` serves it) with node:http, and as raw bytes on a socket.
 *
 * Properties: never a 5xx; every error is the one JSON shape with a JSON content type; a request whose meaning
 * is known gets the status a model of the orders and keys so far predicts; a 2xx create is persisted (GET shows
 * the same view) and the database holds exactly the acknowledged orders, each with one PaymentRequested.
 * @module
 */

import type { Server } from 'node:http';
import { Agent } from 'node:http';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../db/postgres/test-database.ts';
import { manifest } from '../../functions/manifest.ts';
import { createHttpApp } from '../../runtime/http/app.ts';
import { listen } from '../../runtime/http/server.ts';
import type { HttpFunction } from '../../runtime/index.ts';
import { createLogger } from '../../runtime/logger.ts';
import { createTestEnv } from '../../runtime/testing/index.ts';
import { count, fuzzParameters, fuzzSeed } from './fuzz-config.ts';
import { CURRENCY_DIGITS, fixedText } from './http-amounts.ts';
import {
  expectationProblems,
  type FuzzResponse,
  genericProblems,
  OrdersModel,
  parse,
} from './http-oracle.ts';
import { rawSpecArbitrary, renderRaw } from './http-raw.ts';
import { runPool, toWire } from './http-render.ts';
import { type GeneratedRequest, requestArbitrary, type WireRequest } from './http-requests.ts';
import { nodePath, viaApp, viaNode, viaSocket } from './http-transports.ts';

const SEED = fuzzSeed(20_261_201);
const APP_RUNS = 880; // × 8–14 requests each
const SERVER_RUNS = 60; // × 8–14 requests each, over node:http
const RAW_RUNS = 150; // one raw request each
const sequence = fc.array(requestArbitrary, { minLength: 8, maxLength: 14, size: 'max' });

let db: TestDatabase;
let app: ReturnType<typeof createHttpApp>;
let server: Server;
let port: number;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const logLines: { level: number | string; msg: string; err?: { message?: string } }[] = [];
/** Error or fatal, whether pino writes the level as a number or (as `createLogger` does) as its label. */
const isError = (line: { level: number | string }) =>
  typeof line.level === 'number' ? line.level >= 50 : line.level === 'error' || line.level === 'fatal';
const model = new OrdersModel();
let runs = 0;

type Transport = 'app.request' | 'node:http' | 'raw socket';
const stats = {
  requests: { 'app.request': 0, 'node:http': 0, 'raw socket': 0 } as Record<Transport, number>,
  byClass: new Map<string, number>(),
  byStatus: new Map<number, number>(),
  created: 0,
  replayed: 0,
  parserLevel: 0,
};

beforeAll(async () => {
  db = await createTestDatabase();
  const env = createTestEnv({ stores: [db.orders, db.payments] });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).trim().split('\n')) logLines.push(JSON.parse(line));
      done();
    },
  });
  env.logger = createLogger({ level: 'warn', destination: sink });
  const functions = manifest.filter((fn): fn is HttpFunction => fn.kind === 'http');
  app = createHttpApp({ functions, env });
  // The server every process uses (runtime/http/server.ts), so framing and Host errors are answered as in production.
  ({ server, port } = await listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }));
});

afterAll(async () => {
  agent.destroy();
  await new Promise((resolve) => server?.close(resolve));
  await db?.close();
});

function tally(transport: Transport, status: number): void {
  stats.requests[transport] += 1;
  const key = `${Math.floor(status / 100)}xx`;
  stats.byClass.set(key, (stats.byClass.get(key) ?? 0) + 1);
  stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
}

function describeFailure(
  request: GeneratedRequest | string,
  wire: WireRequest | undefined,
  res: FuzzResponse,
  problems: string[],
): string {
  const body = wire?.body === undefined ? '' : Buffer.from(wire.body).toString('utf8');
  return [
    `problems: ${problems.join('; ')}`,
    `request: ${wire === undefined ? String(request) : `${wire.method} ${wire.path} ${JSON.stringify(wire.headers)}`}`,
    `body (${wire?.body?.length ?? 0} bytes): ${body.slice(0, 300)}`,
    `response: ${res.status} ${JSON.stringify(res.headers)} ${res.text.slice(0, 300)}`,
  ].join('\n');
}

/** Sends one generated request, checks every property, and teaches the model what a 2xx create made. */
async function exchange(
  request: GeneratedRequest,
  pool: ReturnType<typeof runPool>,
  send: (wire: WireRequest) => Promise<FuzzResponse>,
  transport: Transport,
) {
  const wire = toWire(request, pool);
  const expected = model.expect(request, wire, pool);
  const res = await send(wire);
  tally(transport, res.status);
  const head = wire.method.toUpperCase() === 'HEAD';
  const problems = [...genericProblems(wire, res), ...expectationProblems(expected, res, head)];
  const isCreate = wire.method.toUpperCase() === 'POST' && /^\/orders?(\?|$)/.test(nodePath(wire.path));
  if (problems.length === 0 && isCreate && res.status >= 200 && res.status < 300) {
    problems.push(...(await createdProblems(res, expected)));
    if (problems.length === 0) {
      const body = parse(res.text) as { orderId: string; order: { totalAmount: string; currency: string } };
      model.learnOrder(body.orderId, body.order);
      if (request.spec.kind === 'create') model.learnKey(request.spec, pool, body.orderId);
    }
  }
  if (problems.length > 0) throw new Error(describeFailure(request, wire, res, problems));
}

/** A 2xx create: the success body, the order the model expects, and the same view through GET. */
async function createdProblems(
  res: FuzzResponse,
  expected: ReturnType<OrdersModel['expect']>,
): Promise<string[]> {
  const body = parse(res.text) as
    | {
        status?: unknown;
        orderId?: unknown;
        order?: { orderId?: unknown; totalAmount?: unknown; currency?: unknown; status?: unknown };
      }
    | undefined;
  const problems: string[] = [];
  const orderId = body?.orderId;
  if (body?.status !== 'success' || typeof orderId !== 'string' || body.order?.orderId !== orderId) {
    return [`not a success body: ${res.text.slice(0, 200)}`];
  }
  if (res.headers.location !== `/orders/${orderId}`) problems.push(`location ${res.headers.location}`);
  if (expected.orderId !== undefined && orderId !== expected.orderId)
    problems.push(`order ${orderId}, expected ${expected.orderId}`);
  if (expected.terms !== undefined) {
    const total = fixedText(expected.terms.minor, CURRENCY_DIGITS[expected.terms.currency]!);
    if (body.order.totalAmount !== total || body.order.currency !== expected.terms.currency) {
      problems.push(
        `order ${String(body.order.totalAmount)} ${String(body.order.currency)}, expected ${total} ${expected.terms.currency}`,
      );
    }
  }
  const replayed = res.headers['idempotent-replayed'] === 'true';
  if (expected.replay === true && !replayed) problems.push('a replay without Idempotent-Replayed: true');
  if (res.status === 201 && !replayed) {
    if (model.orders.has(orderId)) problems.push(`a second 201 for order ${orderId}`);
    if (body.order.status !== 'PENDING') problems.push(`a new order in ${String(body.order.status)}`);
    stats.created += 1;
  } else {
    // A replay: 201 with the first answer as sent (Idempotency-Key), or 200 with the current view (order id).
    if (!replayed) problems.push(`a ${res.status} create that is neither new nor a replay`);
    stats.replayed += 1;
  }
  const get = await viaApp(app, {
    method: 'GET',
    path: `/orders/${encodeURIComponent(orderId)}`,
    headers: [],
    body: undefined,
  });
  if (get.status !== 200) problems.push(`GET /orders/${orderId} after a ${res.status}: ${get.status}`);
  else if (JSON.stringify(parse(get.text)) !== JSON.stringify(body.order)) {
    problems.push(
      `GET shows ${get.text.slice(0, 200)}, the create answered ${JSON.stringify(body.order).slice(0, 200)}`,
    );
  }
  return problems;
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Orders and PaymentRequested outbox rows in the database, counted. */
async function databaseCounts(): Promise<{ orders: number; outbox: number }> {
  const result = (await db.db.execute(sql`
    select (select count(*)::int from orders.orders) as orders,
           (select count(*)::int from orders.outbox where topic = 'payment-requests') as outbox`)) as unknown as {
    rows: { orders: number; outbox: number }[];
  };
  return result.rows[0]!;
}

async function expectDatabaseMatchesModel(): Promise<void> {
  const counts = await databaseCounts();
  if (counts.orders !== model.orders.size || counts.outbox !== model.orders.size) {
    throw new Error(
      `database has ${counts.orders} orders and ${counts.outbox} PaymentRequested rows; ${model.orders.size} orders were acknowledged`,
    );
  }
}

describe('HTTP fuzz (seed ' + SEED + ')', () => {
  it(`answers ${count(APP_RUNS)} generated request sequences through app.request: no 5xx, one error shape, as the model predicts`, async () => {
    await fc.assert(
      fc.asyncProperty(sequence, async (requests) => {
        const pool = runPool(`a${runs++}`);
        for (const request of requests)
          await exchange(request, pool, (wire) => viaApp(app, wire), 'app.request');
        await expectDatabaseMatchesModel();
      }),
      fuzzParameters(SEED, APP_RUNS),
    );
    expect(stats.requests['app.request']).toBeGreaterThanOrEqual(9_000);
  }, 300_000);

  it(`answers ${count(SERVER_RUNS)} sequences over a listening server (node:http; Content-Length and chunked bodies)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        sequence,
        fc.array(fc.constantFrom<'length' | 'chunked'>('length', 'chunked'), {
          minLength: 14,
          maxLength: 14,
        }),
        async (requests, framings) => {
          const pool = runPool(`n${runs++}`);
          for (const [i, request] of requests.entries()) {
            await exchange(request, pool, (wire) => viaNode(port, agent, wire, framings[i]!), 'node:http');
          }
          await expectDatabaseMatchesModel();
        },
      ),
      fuzzParameters(SEED + 1, SERVER_RUNS),
    );
    expect(stats.requests['node:http']).toBeGreaterThanOrEqual(500);
  }, 300_000);

  it(`survives ${count(RAW_RUNS)} requests with broken framing on raw sockets: no 5xx, nothing half-written, still serving`, async () => {
    await fc.assert(
      fc.asyncProperty(rawSpecArbitrary, async (spec) => {
        const orderId = `raw${runs++}`;
        const { bytes, createsIfValid } = renderRaw(spec, orderId);
        const { responses, raw } = await viaSocket(port, bytes);
        const problems: string[] = [];
        if (responses.length === 0) problems.push('no response at all');
        let created = false;
        for (const res of responses) {
          tally('raw socket', res.status);
          if (res.headers['x-request-id'] === undefined) {
            // Rejected by Node's HTTP parser before the application saw it: counted, must still be a 4xx.
            stats.parserLevel += 1;
            if (res.status < 400 || res.status >= 500) problems.push(`parser-level ${res.status}`);
            continue;
          }
          problems.push(
            ...genericProblems({ method: 'POST', path: spec.route, headers: [], body: undefined }, res),
          );
          if (res.status === 201 && (parse(res.text) as { orderId?: unknown })?.orderId === orderId)
            created = true;
        }
        if (created && !createsIfValid) problems.push('created from a body that never arrived whole');
        const get = await viaNode(
          port,
          agent,
          { method: 'GET', path: `/orders/${orderId}`, headers: [], body: undefined },
          'length',
        );
        if (get.status !== (created ? 200 : 404))
          problems.push(`GET /orders/${orderId} is ${get.status} after ${created ? 'a 201' : 'no 201'}`);
        if (created) model.learnOrder(orderId, parse(get.text) as { totalAmount: string; currency: string });
        const health = await viaNode(
          port,
          agent,
          { method: 'GET', path: '/healthz', headers: [], body: undefined },
          'length',
        );
        if (health.status !== 200) problems.push(`/healthz ${health.status} afterwards`);
        if (problems.length > 0) {
          throw new Error(
            `problems: ${problems.join('; ')}\nsent: ${JSON.stringify(bytes.toString('latin1').slice(0, 400))}\ngot: ${JSON.stringify(raw.slice(0, 600))}`,
          );
        }
      }),
      fuzzParameters(SEED + 2, RAW_RUNS),
    );
    await expectDatabaseMatchesModel();
  }, 120_000);

  it('holds exactly the acknowledged orders, each with one PaymentRequested of its amount, and keys only of them', async () => {
    const stored = (await db.db.execute(
      sql`select id, amount_minor::text as minor, currency from orders.orders`,
    )) as unknown as {
      rows: { id: string; minor: string; currency: string }[];
    };
    const requested = (await db.db.execute(sql`
      select key, count(*)::int as n, min(value) as value from orders.outbox where topic = 'payment-requests' group by key`)) as unknown as {
      rows: { key: string; n: number; value: string }[];
    };
    const requestsByOrder = new Map(requested.rows.map((row) => [row.key, row]));
    expect(stored.rows.length).toBe(model.orders.size);
    expect(requested.rows.length).toBe(model.orders.size);
    for (const row of stored.rows) {
      const known = model.orders.get(row.id);
      expect(known, `order ${row.id} in the database was never acknowledged`).toBeDefined();
      expect({ minor: BigInt(row.minor), currency: row.currency }).toEqual(known);
      const request = requestsByOrder.get(row.id);
      expect(request?.n, `PaymentRequested rows of ${row.id}`).toBe(1);
      const data = (JSON.parse(request!.value) as { data: unknown }).data;
      expect(data).toEqual({
        orderId: row.id,
        amount: fixedText(known!.minor, CURRENCY_DIGITS[row.currency] ?? 2),
        currency: row.currency,
      });
    }
    const orphans = (await db.db.execute(sql`
      select count(*)::int as n from orders.idempotency_keys k where not exists (select 1 from orders.orders o where o.id = k.order_id)`)) as unknown as {
      rows: { n: number }[];
    };
    expect(orphans.rows[0]?.n).toBe(0);
    // Not even a client that went away mid-body is an unhandled error (it is the client's doing).
    expect(logLines.filter((line) => isError(line) && line.msg === 'unhandled error')).toEqual([]);
    expect(Object.values(stats.requests).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
  });

  // A request Node's parser accepts but whose Host header is no URL authority (a space, an open IPv6 bracket, a
  // port over 65535) never reaches the app: @hono/node-server's listener cannot build the Request URL. Its error
  // handler (runtime/http/server.ts) answers in the one JSON error shape (it used to be a bare 400).
  it('answers a request with an unusable Host header in the one JSON error shape', async () => {
    for (const host of ['a b', '[::1', 'x:99999']) {
      const { responses } = await viaSocket(
        port,
        Buffer.from(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
      );
      expect(
        responses.map((res) => [
          res.status,
          genericProblems({ method: 'GET', path: '/healthz', headers: [], body: undefined }, res),
        ]),
      ).toEqual([[400, []]]);
    }
  });

  // A client that goes away in the middle of a body (Content-Length 50, 12 bytes sent, socket closed) makes
  // `c.req.text()` reject with Node's "aborted" error: a 400 "request body incomplete", not an unhandled error
  // (it used to be an error-level "unhandled error" line and a 500 in the access log).
  it('does not count a client that disconnects mid-body as an unhandled server error', async () => {
    const before = logLines.length;
    const body = '{"amount":5}';
    await viaSocket(
      port,
      Buffer.from(
        `POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n${body}`,
      ),
      {
        halfClose: false,
        timeoutMs: 200,
      },
    );
    await waitUntil(() => logLines.length > before, 2_000);
    expect(logLines.slice(before).filter(isError)).toEqual([]);
  });
});

afterAll(() => {
  const classes = [...stats.byClass.entries()]
    .sort()
    .map(([k, v]) => `${k} ${count(v)}`)
    .join(', ');
  const statuses = [...stats.byStatus.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, v]) => `${k}: ${count(v)}`)
    .join(', ');
  const total = Object.values(stats.requests).reduce((a, b) => a + b, 0);
  console.log(
    `HTTP fuzz seed ${SEED}: ${count(total)} requests (app.request ${count(stats.requests['app.request'])}, node:http ${count(stats.requests['node:http'])}, raw socket ${count(stats.requests['raw socket'])}): ${classes}; ` +
      `orders created ${count(stats.created)}, replayed ${count(stats.replayed)}; parser-level rejections ${count(stats.parserLevel)}; ` +
      `"aborted" bodies logged as unhandled 500s ${count(logLines.filter((line) => line.err?.message === 'aborted').length)} (${statuses})`,
  );
});
