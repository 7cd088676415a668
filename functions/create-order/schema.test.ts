import { describe, expect, it } from 'vitest';
import {
  type CreateOrderRequest,
  createOrderBodySchema,
  createOrderHeadersSchema,
  requestHash,
} from './schema.ts';

const issuesOf = (body: unknown) => {
  const result = createOrderBodySchema.safeParse(body);
  return result.success
    ? []
    : result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
};

describe('createOrderBodySchema', () => {
  it.each([
    [{ amount: 50 }, { orderId: undefined, amountMinor: 5000n, currency: 'USD' }],
    [
      { amount: '50.00', currency: 'EUR', orderId: 'o-1' },
      { orderId: 'o-1', amountMinor: 5000n, currency: 'EUR' },
    ],
    [
      { OrderId: '123', Amount: 50 },
      { orderId: '123', amountMinor: 5000n, currency: 'USD' },
    ],
    [
      { Amount: '7', currency: 'JPY' },
      { orderId: undefined, amountMinor: 7n, currency: 'JPY' },
    ],
    [
      { amount: 50, extra: true },
      { orderId: undefined, amountMinor: 5000n, currency: 'USD' },
    ],
  ])('given %j, then it normalises the request', (body, expected: CreateOrderRequest) => {
    expect(createOrderBodySchema.parse(body)).toEqual(expected);
  });

  it.each([
    ['no amount', {}, 'amount', 'is required'],
    ['a boolean amount', { amount: true }, 'amount', 'must be a number or a decimal string'],
    ['a null amount', { amount: null }, 'amount', 'must be a number or a decimal string'],
    ['a zero amount', { amount: 0 }, 'amount', 'must be positive'],
    ['a negative amount', { amount: -1 }, 'amount', 'must be positive'],
    ['a too precise amount', { amount: 10.001 }, 'amount', 'too precise for USD (2 decimals)'],
    [
      'a lower-case currency',
      { amount: 1, currency: 'usd' },
      'currency',
      'must be a three-letter ISO 4217 code in upper case, e.g. "USD"',
    ],
    ['an unknown currency', { amount: 1, currency: 'ABC' }, 'currency', 'unknown ISO 4217 currency "ABC"'],
    ['a metal as currency', { amount: 1, currency: 'XAU' }, 'currency', 'unknown ISO 4217 currency "XAU"'],
    [
      'a bad order id',
      { amount: 1, orderId: 'a b' },
      'orderId',
      'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"',
    ],
    ['a numeric order id', { amount: 1, orderId: 5 }, 'orderId', expect.any(String)],
    ['an array', [1], '', 'must be a JSON object'],
    ['a string', 'amount=1', '', 'must be a JSON object'],
  ])('given %s, then it is rejected with one issue', (_, body, path, message) => {
    expect(issuesOf(body)).toEqual([{ path, message }]);
  });
});

describe('createOrderHeadersSchema', () => {
  it.each([['a'], ['k'.repeat(255)], ['8f0c-1!~']])('accepts the key %j', (key) => {
    expect(createOrderHeadersSchema.parse({ 'idempotency-key': key })).toEqual({ 'idempotency-key': key });
  });

  it.each([[''], ['k'.repeat(256)], ['has space'], ['é']])('rejects the key %j', (key) => {
    expect(createOrderHeadersSchema.safeParse({ 'idempotency-key': key }).success).toBe(false);
  });
});

describe('requestHash', () => {
  const request = (overrides: Partial<CreateOrderRequest> = {}): CreateOrderRequest => ({
    orderId: undefined,
    amountMinor: 5000n,
    currency: 'USD',
    ...overrides,
  });

  it('given the same request written two ways, then the hashes match', () => {
    const a = createOrderBodySchema.parse({ amount: 50 });
    const b = createOrderBodySchema.parse({ Amount: '50.00', currency: 'USD' });
    expect(requestHash(a)).toBe(requestHash(b));
  });

  it.each([
    ['amount', { amountMinor: 5001n }],
    ['currency', { currency: 'EUR' }],
    ['order id', { orderId: 'o-1' }],
  ])('given a different %s, then the hash differs', (_, overrides) => {
    expect(requestHash(request(overrides))).not.toBe(requestHash(request()));
  });
});
