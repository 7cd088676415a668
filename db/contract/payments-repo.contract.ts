/**
 * Contract: the payments repository.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { BEYOND_DOUBLE, concurrently, type GetEngine, MAX_BIGINT, payment } from './fixtures.ts';

export function describePaymentsRepoContract(engine: GetEngine): void {
  describe('PaymentsRepo', () => {
    it('inserts a payment and finds it by order', async () => {
      const p = payment({ status: 'FAILED', failureReason: 'card declined', providerRef: null });
      expect(await engine().payments.repo.insertPayment(p)).toEqual({ created: true, payment: p });
      expect(await engine().payments.repo.findPaymentByOrder(p.orderId)).toEqual(p);
      expect(await engine().payments.repo.findPaymentByOrder('missing')).toBeUndefined();
    });

    it('keeps exactly one payment per order under concurrent inserts and returns it to every caller', async () => {
      const orderId = payment().orderId;
      const results = await concurrently(8, () =>
        engine().payments.transaction((tx) => tx.repo.insertPayment(payment({ orderId }))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)!.payment;
      for (const r of results) expect(r.payment).toEqual(winner);
    });

    it.each([
      ['2^53 + 1', BEYOND_DOUBLE],
      ['2^63 - 1', MAX_BIGINT],
      ['1', 1n],
    ])('round-trips the amount %s exactly as a bigint', async (_label, amountMinor) => {
      const p = payment({ amountMinor });
      const { payment: stored } = await engine().payments.repo.insertPayment(p);
      expect(stored.amountMinor).toBe(amountMinor);
      const found = await engine().payments.repo.findPaymentByOrder(p.orderId);
      expect(typeof found?.amountMinor).toBe('bigint');
      expect(found?.amountMinor).toBe(amountMinor);
    });
  });
}
