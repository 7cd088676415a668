import { decodeEvent, EventDecodeError, encodeEvent, type RawEventMessage } from '../codec.ts';
import type { EventFunction, InvocationMeta } from '../define.ts';
import type { EventMessage } from '../events.ts';
import { type EventOutcome, eventInvocationMeta, invokeEventFunction, type RuntimeEnv } from '../invoke.ts';

export interface InvokeEventOptions {
  /** Attempt number seen by the handler (default 1). */
  attempt?: number;
  source?: InvocationMeta['source'];
}

/**
 * Delivers one event to an event function as the Kafka binding would: decoded and validated when raw, then
 * handled in one transaction with the inbox. Resolves `'handled'` or `'duplicate'`; rejects with the handler's
 * error, or an `EventDecodeError` (non-retriable) naming why a raw message cannot be decoded.
 * @example
 * const event = PaymentCompleted.create({ orderId: 'o-1', paymentId: 'p-1', amount: '50.00', currency: 'USD' });
 * expect(await invokeEvent(applyPaymentResult, event, env)).toBe('handled');
 * expect(await invokeEvent(applyPaymentResult, event, env)).toBe('duplicate'); // delivered twice
 */
export async function invokeEvent(
  // biome-ignore lint/suspicious/noExplicitAny: any event function
  fn: EventFunction<any, any, any>,
  message: EventMessage | RawEventMessage,
  env: RuntimeEnv,
  options: InvokeEventOptions = {},
): Promise<EventOutcome> {
  let event: EventMessage;
  if (isRaw(message)) {
    const decoded = decodeEvent(message, fn.events);
    if (!decoded.ok) throw new EventDecodeError(`${fn.id}: cannot decode message: ${decoded.reason}`);
    event = decoded.message;
  } else {
    event = message;
  }
  return invokeEventFunction(fn, event, env, eventInvocationMeta(fn, event, options));
}

/**
 * The Kafka message an event becomes on the wire (what a consumer receives), to feed `invokeEvent` raw
 * or to tamper with in decode tests.
 * @example
 * const raw = toRawMessage(event);
 * await expect(invokeEvent(fn, { ...raw, value: Buffer.from('{') }, env)).rejects.toThrow(/malformed JSON/);
 */
export function toRawMessage(message: EventMessage): RawEventMessage {
  const record = encodeEvent(message);
  return {
    key: Buffer.from(record.key),
    value: Buffer.from(record.value),
    headers: Object.fromEntries(
      Object.entries(record.headers).map(([name, value]) => [name, Buffer.from(value)]),
    ),
  };
}

function isRaw(message: EventMessage | RawEventMessage): message is RawEventMessage {
  return !('type' in message) && 'value' in message;
}
