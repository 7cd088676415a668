/**
 * track-order: the order timeline read model. In its own consumer group it folds every event topic, the
 * attempt log (`consumer-attempts`) and the dead-letter and redrive topics of the other event functions into
 * `orders.order_timeline`; `GET /orders/:id/timeline` (get-order-timeline) reads it. It reads no other
 * service's tables: everything it knows came over Kafka, so it works the same when every function runs in
 * its own container. Every copy of an event counts (`dedupe: 'record'`), and it records no attempts of its
 * own (it folds that log).
 * @module
 */
import { OrderShipped, PaymentCompleted, PaymentFailed, PaymentRequested } from '../../contracts/events.ts';
import { ordersStore } from '../../db/orders/repo.ts';
import { ConsumerAttemptRecorded, ConsumerAttemptsRecorded } from '../../runtime/attempt-log.ts';
import { defineEventFunction } from '../../runtime/index.ts';
import { foldRecord } from './fold.ts';

export const TRACK_ORDER_ID = 'track-order';

/**
 * The function, folding also `extraTopics` (the manifest passes every other event function's dead-letter
 * and redrive topics).
 */
export function trackOrderFunction(extraTopics: readonly string[]) {
  return defineEventFunction({
    id: TRACK_ORDER_ID,
    events: [
      PaymentRequested,
      PaymentCompleted,
      PaymentFailed,
      OrderShipped,
      ConsumerAttemptRecorded,
      ConsumerAttemptsRecorded,
    ],
    extraTopics,
    groupId: 'tracking',
    store: ordersStore,
    recordAttempts: false,
    dedupe: 'record',
    // A poison message on a dead-letter topic is nothing to fold (it has no event), not a dead letter of ours.
    undecodable: 'skip',
    description: "Folds every event, attempt, dead letter and redrive of an order into the order's timeline",
    handler: async ({ event, deps, meta }) => {
      if (meta.source === undefined) return;
      await deps.db.appendTimeline(
        foldRecord(event, meta.source).map(({ orderId, entry }) => ({
          orderId,
          at: new Date(entry.at),
          entry: JSON.stringify(entry),
        })),
      );
    },
  });
}
