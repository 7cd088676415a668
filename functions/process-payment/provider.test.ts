import { describe, expect, it } from 'vitest';
import { createSimulatedProvider } from './provider.ts';

describe('createSimulatedProvider', () => {
  const charge = (amountMinor: bigint, currency: string, limit?: string) =>
    createSimulatedProvider(limit === undefined ? {} : { limit }).charge({
      orderId: 'o-1',
      amountMinor,
      currency,
    });

  it.each([
    ['300.00 USD', 30000n, 'USD'],
    ['0.01 USD', 1n, 'USD'],
    ['300 JPY', 300n, 'JPY'],
    ['300.000 KWD', 300000n, 'KWD'],
  ])(
    'given the default limit, when %s is charged, then it completes with a provider reference',
    async (_, minor, currency) => {
      expect(await charge(minor, currency)).toEqual({
        status: 'COMPLETED',
        providerRef: expect.stringMatching(/^sim_[0-9a-f-]{36}$/),
      });
    },
  );

  it.each([
    ['300.01 USD', 30001n, 'USD'],
    ['301 JPY', 301n, 'JPY'],
    ['300.001 KWD', 300001n, 'KWD'],
  ])(
    'given the default limit, when %s is charged, then it fails with "insufficient funds"',
    async (_, minor, currency) => {
      expect(await charge(minor, currency)).toEqual({ status: 'FAILED', reason: 'insufficient funds' });
    },
  );

  it.each([
    ['10.5', 1050n, 'USD', 'COMPLETED'],
    ['10.5', 1051n, 'USD', 'FAILED'],
    ['10.5', 10n, 'JPY', 'COMPLETED'],
    ['10.5', 11n, 'JPY', 'FAILED'],
    ['0', 1n, 'USD', 'FAILED'],
  ])(
    'given a limit of %s, when %s minor units of %s are charged, then it is %s',
    async (limit, minor, currency, status) => {
      expect(await charge(minor, currency, limit)).toMatchObject({ status });
    },
  );

  it.each([['-1'], ['abc'], ['1e3'], ['']])('rejects the limit %j at creation', (limit) => {
    expect(() => createSimulatedProvider({ limit })).toThrow(/limit must be a non-negative decimal/);
  });

  it('is idempotent per order id: a repeated charge gets the first answer and reference', async () => {
    const provider = createSimulatedProvider();
    const first = await provider.charge({ orderId: 'o-9', amountMinor: 5000n, currency: 'USD' });
    const again = await provider.charge({ orderId: 'o-9', amountMinor: 5000n, currency: 'USD' });
    const other = await provider.charge({ orderId: 'o-10', amountMinor: 5000n, currency: 'USD' });
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });
});
