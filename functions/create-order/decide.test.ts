import { describe, expect, it } from 'vitest';
import { decideExistingOrder, decideIdempotencyKey } from './decide.ts';

describe('decideExistingOrder', () => {
  it('given an order with the same amount and currency, when it is requested again, then the original is replayed', () => {
    expect(
      decideExistingOrder(
        'o-1',
        { amountMinor: 5000n, currency: 'USD' },
        { amountMinor: 5000n, currency: 'USD' },
      ),
    ).toEqual({
      kind: 'replay',
    });
  });

  it.each([
    [
      'another amount',
      { amountMinor: 5001n, currency: 'USD' },
      'Order o-1 already exists with amount 50.00 USD, not 50.01 USD',
    ],
    [
      'another currency',
      { amountMinor: 5000n, currency: 'EUR' },
      'Order o-1 already exists with amount 50.00 USD, not 50.00 EUR',
    ],
  ])(
    'given an order, when it is requested with %s, then it is rejected naming the order',
    (_, requested, message) => {
      expect(decideExistingOrder('o-1', { amountMinor: 5000n, currency: 'USD' }, requested)).toEqual({
        kind: 'reject',
        message,
      });
    },
  );
});

describe('decideIdempotencyKey', () => {
  it('given a key used with the same request, then the original is replayed', () => {
    expect(decideIdempotencyKey('h1', 'h1')).toEqual({ kind: 'replay' });
  });

  it('given a key used with another request, then it is rejected with a clear message', () => {
    expect(decideIdempotencyKey('h1', 'h2')).toEqual({
      kind: 'reject',
      message: expect.stringContaining('Idempotency-Key was already used with a different request body'),
    });
  });
});
