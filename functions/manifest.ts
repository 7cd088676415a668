/**
 * The one list of every function. The all-in-one launcher, the container entry point (`serve <id>`),
 * topic creation and (later) the gateway's routes are all derived from it; nothing else enumerates functions.
 * @module
 */
import { OrderShipped, PaymentCompleted, PaymentFailed, PaymentRequested } from '../contracts/events.ts';
import { ConsumerAttemptRecorded, ConsumerAttemptsRecorded } from '../runtime/attempt-log.ts';
import type { AnyFunction, EventDefinition } from '../runtime/index.ts';
import { applyPaymentResult } from './apply-payment-result/index.ts';
import { createOrder } from './create-order/index.ts';
import { getOrder } from './get-order/index.ts';
import { getOrderTimeline } from './get-order-timeline/index.ts';
import { listOrders } from './list-orders/index.ts';
import { notifyPaymentFailed } from './notify-payment-failed/index.ts';
import { processPayment } from './process-payment/index.ts';
import { shipOrder } from './ship-order/index.ts';
import { trackOrderFunction } from './track-order/index.ts';

const workers = [processPayment, applyPaymentResult, shipOrder, notifyPaymentFailed];

/** The order timeline folds the dead-letter and redrive topics of every other event function too. */
export const trackOrder = trackOrderFunction(workers.flatMap((fn) => [fn.deadLetterTopic, fn.redriveTopic]));

export const manifest: readonly AnyFunction[] = [
  createOrder,
  getOrder,
  getOrderTimeline,
  listOrders,
  ...workers,
  trackOrder,
];

/** Every event type the system publishes (consumed or not, e.g. OrderShipped is for downstream systems). */
export const publishedEvents: readonly EventDefinition[] = [
  PaymentRequested,
  PaymentCompleted,
  PaymentFailed,
  OrderShipped,
  ConsumerAttemptRecorded,
  ConsumerAttemptsRecorded,
];

/** Looks a function up by id; `undefined` when there is none. */
export function findFunction(id: string): AnyFunction | undefined {
  return manifest.find((fn) => fn.id === id);
}

/**
 * The Kafka topics the system needs: one per published event, plus each event function's dead-letter topic
 * and its redrive topic (in `deadLetters`: both have one partition).
 */
export function manifestTopics(functions: readonly AnyFunction[] = manifest): {
  events: string[];
  deadLetters: string[];
} {
  const events = new Set(publishedEvents.map((event) => event.topic));
  const deadLetters = new Set<string>();
  for (const fn of functions) {
    if (fn.kind !== 'event') continue;
    for (const event of fn.events as readonly EventDefinition[]) events.add(event.topic);
    deadLetters.add(fn.deadLetterTopic);
    deadLetters.add(fn.redriveTopic);
  }
  return { events: [...events].sort(), deadLetters: [...deadLetters].sort() };
}

/** The services (stores) the given functions need. */
export function servicesOf(functions: readonly AnyFunction[]): string[] {
  return [...new Set(functions.map((fn) => fn.store.service))].sort();
}
