/**
 * Issue 9, defect 1: an event whose id arrives as an upper-case UUID must be handled, not taken for a duplicate,
 * when it goes through a consumer's batch (one inbox statement for the batch, real PGlite store).
 */
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../runtime/codec.ts';
import { eventInvocationMeta, invokeEventBatch } from '../runtime/invoke.ts';
import { toRawMessage } from '../runtime/testing/index.ts';
import { paymentCompleted, seedOrder } from './__fixtures__/factories.ts';
import { setupFunctionTest } from './__fixtures__/setup.ts';
import { shipOrder } from './ship-order/index.ts';

const t = setupFunctionTest();

describe('a batch of events with upper-case UUID ids', () => {
  it('handles each once (the inbox compares canonical ids) and skips a repeat in another case', async () => {
    await seedOrder(t.orders, { id: 'order-1', status: 'CONFIRMED', paymentStatus: 'PAID' });
    await seedOrder(t.orders, { id: 'order-2', status: 'CONFIRMED', paymentStatus: 'PAID' });
    const upper = paymentCompleted({ orderId: 'order-1' });
    const raw = (event: ReturnType<typeof paymentCompleted>, id: string) => {
      const message = toRawMessage(event);
      const value = JSON.parse(message.value!.toString('utf8'));
      return { ...message, value: Buffer.from(JSON.stringify({ ...value, id })) };
    };
    const decode = (message: ReturnType<typeof raw>) => {
      const decoded = decodeEvent(message, shipOrder.events);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.message;
    };
    const first = decode(raw(upper, upper.id.toUpperCase()));
    const second = decode(raw(paymentCompleted({ orderId: 'order-2' }), paymentCompleted().id.toUpperCase()));
    const items = [first, second].map((message) => ({
      message,
      meta: eventInvocationMeta(shipOrder, message),
    }));

    expect(await invokeEventBatch(shipOrder, items, t.env)).toEqual(['handled', 'handled']);
    expect(await t.orders.findShipment('order-1')).toBeDefined();
    expect(await t.orders.findShipment('order-2')).toBeDefined();

    // The same event again, its id now in lower case: one event, so a duplicate.
    const again = decode(raw(upper, upper.id.toLowerCase()));
    expect(
      await invokeEventBatch(
        shipOrder,
        [{ message: again, meta: eventInvocationMeta(shipOrder, again) }],
        t.env,
      ),
    ).toEqual(['duplicate']);
  });
});
