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

/** One topic's first message of a key, as the observer got it. */
export interface Sighting {
  /** Wall time (ms) the observer got it. */
  at: number;
  /** The message's Kafka timestamp (CreateTime: set by the producer when it sent the message), ms. */
  timestamp: number;
  /** Its `event-id` header, when it has one. */
  eventId: string | undefined;
}

export interface Observer {
  /** Wall time (ms) each key was first seen, on any of the topics. */
  readonly seen: Map<string, number>;
  /** By topic, each key's first message. */
  readonly byTopic: Map<string, Map<string, Sighting>>;
  /** Messages seen, including repeats of a key. */
  count(): number;
  /** Resolves when `predicate()` holds after a message, or after `timeoutMs` (false). */
  until(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Watches `topics` (their keys go to `seen`) and `alsoWatch` (only in `byTopic`: e.g. the intermediate
 * topics of the per-hop breakdown), from the beginning.
 */
export async function startObserver(
  brokers: readonly string[],
  topics: readonly string[],
  alsoWatch: readonly string[] = [],
): Promise<Observer> {
  const kafka = new Kafka({ brokers: [...brokers], clientId: 'bench-observer', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-observer-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen = new Map<string, number>();
  const byTopic = new Map<string, Map<string, Sighting>>(
    [...topics, ...alsoWatch].map((t) => [t, new Map()]),
  );
  const terminal = new Set(topics);
  let total = 0;
  let check: (() => void) | undefined;
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics, ...alsoWatch], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 8,
    eachBatch: async ({ batch }) => {
      const now = wallMs();
      const sightings = byTopic.get(batch.topic);
      for (const message of batch.messages) {
        total += 1;
        const key = message.key?.toString() ?? '';
        if (terminal.has(batch.topic) && !seen.has(key)) seen.set(key, now);
        if (sightings !== undefined && !sightings.has(key)) {
          const id = message.headers?.['event-id'];
          sightings.set(key, {
            at: now,
            timestamp: Number(message.timestamp),
            eventId: id === undefined ? undefined : String(Array.isArray(id) ? id.at(-1) : id),
          });
        }
      }
      check?.();
    },
  });
  await joined;
  return {
    seen,
    byTopic,
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
