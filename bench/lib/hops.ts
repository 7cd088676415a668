/**
 * Where the time of one order goes, from timestamps the system already records (no instrumentation added):
 *
 *   POST sent (orchestrator)
 *   → PaymentRequested published     its Kafka timestamp on payment-requests (the relay's producer, at send)
 *   → payment row                    payments.payments.created_at (process-payment's handler clock)
 *   → PaymentCompleted published     its Kafka timestamp on payment-completed
 *   then two consumers of PaymentCompleted, side by side:
 *   → order PAID                     orders.inbox.handled_at of apply-payment-result's group (`orders`) for
 *                                    that event id: the start of the transaction that set PAID (`now()`)
 *   → shipped                        orders.shipments.shipped_at (ship-order's handler clock)
 *   → OrderShipped seen              the observer's arrival time on order-shipped (relay + fetch)
 *
 * Every clock is this machine's (the database's `now()` included), so the differences are comparable; a
 * hop can read slightly negative when two clocks are read microseconds apart. Orders missing any timestamp
 * (e.g. an outbox row pruned, a message not seen) are left out and counted.
 * @module
 */
import { type LatencySummary, latencyHistogram, recordMs, summarize } from './histogram.ts';
import type { OrderLoad } from './load.ts';
import type { Observer } from './observer.ts';
import type { Sut } from './processes.ts';

export const HOP_TOPICS = ['payment-requests', 'payment-completed'] as const;

export interface HopFigures {
  /** Orders with every timestamp (the breakdown is over these). */
  orders: number;
  /** Created orders left out for a missing timestamp. */
  incomplete: number;
  hops: {
    requestPublished: LatencySummary;
    paymentRow: LatencySummary;
    completedPublished: LatencySummary;
    orderPaid: LatencySummary;
    shipped: LatencySummary;
    shippedSeen: LatencySummary;
  };
}

export async function hopFigures(
  load: OrderLoad,
  observer: Observer,
  sut: Sut,
  prefix: string,
): Promise<HopFigures> {
  const rows = await sut.sql<{ id: string; payment_ms: string | null; shipped_ms: string | null }>(
    `select o.id, extract(epoch from p.created_at) * 1000 as payment_ms,
            extract(epoch from s.shipped_at) * 1000 as shipped_ms
     from orders.orders o
     left join payments.payments p on p.order_id = o.id
     left join orders.shipments s on s.order_id = o.id
     where o.id like '${prefix}%'`,
  );
  const completed = observer.byTopic.get('payment-completed')!;
  const requested = observer.byTopic.get('payment-requests')!;
  const shippedSeen = observer.byTopic.get('order-shipped')!;
  const eventIds = [...load.created]
    .map((id) => completed.get(id)?.eventId)
    .filter((id): id is string => id !== undefined && /^[0-9a-f-]{36}$/i.test(id));
  const paid = new Map<string, number>();
  for (let i = 0; i < eventIds.length; i += 500) {
    const list = eventIds
      .slice(i, i + 500)
      .map((id) => `'${id}'`)
      .join(',');
    const inbox = await sut.sql<{ event_id: string; ms: string }>(
      `select event_id::text as event_id, extract(epoch from handled_at) * 1000 as ms
       from orders.inbox where consumer = 'orders' and event_id in (${list})`,
    );
    for (const row of inbox) paid.set(row.event_id.toLowerCase(), Number(row.ms));
  }
  const h = {
    requestPublished: latencyHistogram(),
    paymentRow: latencyHistogram(),
    completedPublished: latencyHistogram(),
    orderPaid: latencyHistogram(),
    shipped: latencyHistogram(),
    shippedSeen: latencyHistogram(),
  };
  let orders = 0;
  for (const row of rows) {
    if (!load.created.has(row.id)) continue;
    const sent = load.sentAt.get(row.id);
    const req = requested.get(row.id)?.timestamp;
    const done = completed.get(row.id);
    const paidAt = done?.eventId === undefined ? undefined : paid.get(done.eventId.toLowerCase());
    const seen = shippedSeen.get(row.id)?.at;
    if (
      sent === undefined ||
      req === undefined ||
      done === undefined ||
      paidAt === undefined ||
      seen === undefined ||
      row.payment_ms === null ||
      row.shipped_ms === null
    )
      continue;
    const payment = Number(row.payment_ms);
    const shipped = Number(row.shipped_ms);
    orders += 1;
    recordMs(h.requestPublished, req - sent);
    recordMs(h.paymentRow, payment - req);
    recordMs(h.completedPublished, done.timestamp - payment);
    recordMs(h.orderPaid, paidAt - done.timestamp);
    recordMs(h.shipped, shipped - done.timestamp);
    recordMs(h.shippedSeen, seen - shipped);
  }
  return {
    orders,
    incomplete: load.created.size - orders,
    hops: {
      requestPublished: summarize(h.requestPublished),
      paymentRow: summarize(h.paymentRow),
      completedPublished: summarize(h.completedPublished),
      orderPaid: summarize(h.orderPaid),
      shipped: summarize(h.shipped),
      shippedSeen: summarize(h.shippedSeen),
    },
  };
}
