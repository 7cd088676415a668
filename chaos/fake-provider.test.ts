import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProvider } from '../functions/process-payment/http-provider.ts';
import { RetryLaterError } from '../runtime/index.ts';
import { type FakeProvider, startFakeProvider, toCents } from './fake-provider.ts';
import { STREAMS, seededRandom } from './random.ts';

describe('the fake provider, through the real HTTP adapter', () => {
  let provider: FakeProvider;
  /** Hung requests (faults) time out after `timeoutMs`. */
  const charge = (orderId: string, amountMinor: bigint, timeoutMs = 5_000) =>
    createHttpProvider({ url: provider.url, timeoutMs }).charge({
      orderId,
      amountMinor,
      currency: 'USD',
    });

  beforeAll(async () => {
    provider = await startFakeProvider({ random: seededRandom(1, STREAMS.provider) });
  });
  afterAll(() => provider.close());

  it('approves up to 300.00 and declines above with "insufficient funds"', async () => {
    expect(await charge('a', 30_000n)).toEqual({
      status: 'COMPLETED',
      providerRef: expect.stringMatching(/^ch_/),
    });
    expect(await charge('b', 30_001n)).toEqual({ status: 'FAILED', reason: 'insufficient funds' });
  });

  it('answers a repeated key with the first answer, and charges once', async () => {
    const first = await charge('c', 5_000n);
    const before = provider.stats();
    expect(await charge('c', 5_000n)).toEqual(first);
    expect(provider.stats().charges).toBe(before.charges);
    expect(provider.stats().replays).toBe(before.replays + 1);
  });

  it('refuses the same key with another amount (422: a plain error)', async () => {
    await charge('d', 1_000n);
    const error = await charge('d', 2_000n).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(RetryLaterError);
    expect(provider.stats().conflicts).toBe(1);
  });

  it('with faults on, every request fails in a retriable way; a charge made during a hang is kept', async () => {
    provider.setFaulty(true);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => charge(`f-${i}`, 1_000n, 500).catch((e: unknown) => e)),
    );
    provider.setFaulty(false);
    expect(results.every((r) => r instanceof RetryLaterError)).toBe(true);
    const { faults } = provider.stats();
    expect(Object.values(faults).reduce((a, b) => a + b, 0)).toBe(20);
    expect(
      new Set(
        Object.entries(faults)
          .filter(([, n]) => n > 0)
          .map(([kind]) => kind),
      ).size,
    ).toBeGreaterThan(2);
    const chargedDuringHang = provider.approvedOrders().filter((id) => id.startsWith('f-'));
    expect(chargedDuringHang).toHaveLength(faults['hang-after-charge']);
    for (const id of chargedDuringHang) expect((await charge(id, 1_000n)).status).toBe('COMPLETED');
  });

  it('converts decimal text to cents', () => {
    expect([toCents('300'), toCents('300.1'), toCents('0.05'), toCents('12.34')]).toEqual([
      30000n,
      30010n,
      5n,
      1234n,
    ]);
  });
});
