/**
 * Test fixtures: event definitions on a per-test topic, and outbox records made from them.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { encodeEvent } from '../codec.ts';
import { defineEvent } from '../events.ts';
import type { NewOutboxRecord } from '../store.ts';

/** A unique topic name, so tests sharing a broker never see each other's messages. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** `Pinged` v1 `{ orderId, n, behaviour? }` on `topic`, keyed by order id. */
export function pingedEvent(topic: string) {
  return defineEvent('Pinged', {
    version: 1,
    topic,
    schema: z.object({ orderId: z.string(), n: z.number().int(), behaviour: z.string().optional() }),
    key: (data) => data.orderId,
  });
}

/** `count` encoded Pinged records for `orderId`, n = 0..count-1. */
export function pingRecords(topic: string, count: number, orderId = 'o-1', start = 0): NewOutboxRecord[] {
  const Pinged = pingedEvent(topic);
  return Array.from({ length: count }, (_, i) => encodeEvent(Pinged.create({ orderId, n: start + i })));
}
