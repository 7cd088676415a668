/**
 * Parked outbox rows through the ops tooling, over the real orders store (PGlite, its migrations) and over
 * HTTP with the bearer token.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStores, openStores } from '../../db/open-stores.ts';
import type { HttpVariables } from '../http/request-context.ts';
import { pingRecords, uniqueTopic } from '../kafka/test-events.ts';
import type { TransactionalStore } from '../store.ts';
import { deadLetterOps } from './dead-letters.ts';
import { mountOps } from './http.ts';
import { outboxOps } from './outbox.ts';

const TOKEN = 'outbox-test-token-0123456789';
let opened: OpenedStores;
let orders: TransactionalStore<unknown>;
let parkedIds: string[];

beforeAll(async () => {
  opened = await openStores(['orders'], () => ({ dialect: 'pglite', dataDir: undefined }));
  orders = opened.stores.orders!;
  await orders.transaction((tx) => tx.appendOutbox(pingRecords(uniqueTopic('gone'), 3, 'o-parked')));
  // The relay's path to parking: claim, then a failure charged with parkAfter 1.
  const claimed = await orders.outbox.claim(10, 60_000, 'relay-1');
  parkedIds = claimed.slice(0, 2).map((r) => String(r.id));
  await orders.outbox.recordFailures(
    claimed.slice(0, 2).map((r) => ({ id: r.id, error: 'UNKNOWN_TOPIC_OR_PARTITION: no such topic' })),
    { owner: 'relay-1', retryInMs: 1_000, parkAfter: 1 },
  );
}, 60_000);
afterAll(() => opened?.close());

describe('parked outbox rows', () => {
  const ops = () => outboxOps({ orders });

  it('lists them with their error, and counts the backlog', async () => {
    const [summary] = await ops().listParked();
    expect(summary).toMatchObject({ service: 'orders', parked: 2, pending: 3 });
    expect(summary!.rows.map((r) => r.id)).toEqual(parkedIds);
    expect(summary!.rows[0]).toMatchObject({ key: 'o-parked', failures: 1 });
    expect(summary!.rows[0]!.lastError).toMatch(/UNKNOWN_TOPIC/);
  });

  it('republishes over HTTP with the token only; a dry run changes nothing', async () => {
    const app = new Hono<{ Variables: HttpVariables }>();
    const deadLetters = deadLetterOps({
      sources: [],
      maxRedrives: 1,
      log: { read: async () => [], send: async () => [], lag: async () => [] },
    });
    expect(mountOps(app, { token: TOKEN, deadLetters, outbox: ops() })).toBe(true);
    const post = (body: unknown, token?: string) =>
      app.request('/ops/outbox/orders/republish', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    expect((await post({ all: true })).status).toBe(401);
    expect((await post({ all: true }, `${TOKEN}x`)).status).toBe(401);
    expect(await orders.outbox.parkedCount()).toBe(2);

    expect(await (await post({ ids: [parkedIds[0]], dryRun: true }, TOKEN)).json()).toEqual({
      dryRun: true,
      republished: 1,
    });
    expect(await orders.outbox.parkedCount()).toBe(2);
    expect(await (await post({ ids: [parkedIds[0]] }, TOKEN)).json()).toEqual({
      dryRun: false,
      republished: 1,
    });
    expect((await orders.outbox.listParked()).map((r) => String(r.id))).toEqual([parkedIds[1]]);
    expect((await post({ ids: ['x'] }, TOKEN)).status).toBe(400);
    expect(await (await post({ all: true }, TOKEN)).json()).toEqual({
      dryRun: false,
      republished: 1,
    });
    expect(await orders.outbox.parkedCount()).toBe(0);
  });

  it('is not mounted without a token', async () => {
    const app = new Hono<{ Variables: HttpVariables }>();
    const deadLetters = deadLetterOps({
      sources: [],
      maxRedrives: 1,
      log: { read: async () => [], send: async () => [], lag: async () => [] },
    });
    expect(mountOps(app, { token: undefined, deadLetters, outbox: ops() })).toBe(false);
    expect((await app.request('/ops/outbox/parked')).status).toBe(404);
  });
});
