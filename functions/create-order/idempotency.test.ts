import { describe, expect, it } from 'vitest';
import { idempotencyScope, replayStored, storedResponse } from './idempotency.ts';

const meta = { functionId: 'create-order', correlationId: 'c', causationId: 'r', attempt: 1 };

describe('idempotencyScope', () => {
  it.each([
    [{ method: 'POST', path: '/orders' } as const, 'POST /orders'],
    [{ method: 'POST', path: '/order' } as const, 'POST /order'],
  ])('given the matched route %j, then the key is scoped to %s for the anonymous client', (route, scoped) => {
    expect(idempotencyScope({ ...meta, route }, '/orders')).toEqual({ clientId: '', route: scoped });
  });

  it('given no route (a direct invocation), then the function path given is used', () => {
    expect(idempotencyScope(meta, '/orders')).toEqual({ clientId: '', route: 'POST /orders' });
  });
});

describe('storedResponse / replayStored', () => {
  it.each([
    ['an order answer', { status: 'success', orderId: 'o-1', order: { totalAmount: '50.00' } }],
    ['escapes and non-ASCII', { text: 'a"\\\n\u0000 é 日本 😀 \ud800', '10': 1, '2': [1.5e300, -0, 0.1] }],
  ])('given %s, when stored and replayed, then the body is sent byte for byte', (_, body) => {
    const stored = storedResponse({ status: 201, body });
    const replayed = replayStored(
      {
        clientId: '',
        route: 'POST /orders',
        key: 'k',
        requestHash: 'h',
        orderId: 'o-1',
        ...stored,
        createdAt: new Date(0),
        expiresAt: new Date(1),
      },
      { location: '/orders/o-1' },
    );
    expect(replayed?.status).toBe(201);
    expect(JSON.stringify(replayed?.body)).toBe(JSON.stringify(body));
    expect(replayed?.headers).toEqual({ location: '/orders/o-1', 'idempotent-replayed': 'true' });
  });

  it('given a key migrated without an answer, then there is nothing stored to replay', () => {
    const record = {
      clientId: '',
      route: 'POST /orders',
      key: 'k',
      requestHash: 'h',
      orderId: 'o-1',
      responseStatus: null,
      responseBody: null,
      createdAt: new Date(0),
      expiresAt: new Date(1),
    };
    expect(replayStored(record, {})).toBeUndefined();
  });
});
