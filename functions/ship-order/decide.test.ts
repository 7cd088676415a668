import { describe, expect, it } from 'vitest';
import type { OrderState } from '../../contracts/order-lifecycle.ts';
import { decideShipment, type ShipmentProposal } from './decide.ts';

const order = (overrides: Partial<OrderState> = {}): OrderState => ({
  status: 'CONFIRMED',
  paymentStatus: 'PAID',
  failureReason: null,
  ...overrides,
});
const proposal: ShipmentProposal = {
  orderId: 'o-1',
  trackingId: 'TRK-ABCDEF123456',
  carrier: 'SIM-POST',
  shippedAt: new Date('2026-01-01T00:00:00.000Z'),
};

describe('decideShipment', () => {
  it.each([
    ['CONFIRMED', 'PAID'],
    ['PENDING', 'NOT_PAID'],
  ] as const)(
    'given a %s/%s order without a shipment, then it ships and becomes SHIPPED/PAID',
    (status, paymentStatus) => {
      expect(decideShipment(order({ status, paymentStatus }), undefined, proposal)).toEqual({
        kind: 'ship',
        shipment: proposal,
        next: { status: 'SHIPPED', paymentStatus: 'PAID', failureReason: null },
      });
    },
  );

  it('given an order that already has a shipment, then it is skipped as a duplicate', () => {
    const decision = decideShipment(
      order({ status: 'SHIPPED' }),
      { trackingId: 'TRK-000000000000' },
      proposal,
    );
    expect(decision).toEqual({
      kind: 'skip',
      reason: 'duplicate',
      detail: 'already shipped as TRK-000000000000',
    });
  });

  it('given a cancelled order, then it never ships', () => {
    const cancelled = order({
      status: 'CANCELLED',
      paymentStatus: 'FAILED',
      failureReason: 'insufficient funds',
    });
    expect(decideShipment(cancelled, undefined, proposal)).toMatchObject({
      kind: 'skip',
      reason: 'conflict',
    });
  });
});
