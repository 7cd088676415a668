/**
 * Watches topics from outside the system under test: a plain kafkajs consumer in the orchestrator's process
 * that notes when each message (by key) arrives. For the end-to-end phase it watches `order-shipped`: an
 * order's `OrderShipped` event is published by the outbox relay only after ship-order's transaction
 * (SHIPPED/PAID) committed, so its arrival is an upper bound of "the order reached its terminal state",
 * seen by an independent process the way a downstream system sees it.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { wallMs } from './time.ts';

export interface Observer {
  /** Wall time (ms) each key was first seen. */
  readonly seen: Map<string, number>;
  /** Messages seen, including repeats of a key. */
  count(): number;
  /** Resolves when `predicate()` holds after a message, or after `timeoutMs` (false). */
  until(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startObserver(
  brokers: readonly string[],
  topics: readonly string[],
): Promise<Observer> {
  const kafka = new Kafka({ brokers: [...brokers], clientId: 'bench-observer', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-observer-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen = new Map<string, number>();
  let total = 0;
  let check: (() => void) | undefined;
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 8,
    eachBatch: async ({ batch }) => {
      const now = wallMs();
      for (const message of batch.messages) {
        total += 1;
        const key = message.key?.toString() ?? '';
        if (!seen.has(key)) seen.set(key, now);
      }
      check?.();
    },
  });
  await joined;
  return {
    seen,
    count: () => total,
    until(predicate, timeoutMs) {
      if (predicate()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          check = undefined;
          resolve(false);
        }, timeoutMs);
        check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          check = undefined;
          resolve(true);
        };
      });
    },
    stop: () => consumer.disconnect(),
  };
}
