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
 * The Kafka timestamps are read after the loads ({@link readTopics}), so watching the intermediate topics
 * adds no fetches to the system while it is measured. Every clock is this machine's (the database's `now()`
 * included), so the differences are comparable; a hop can read slightly negative when two clocks are read
 * microseconds apart (recorded as 0). Orders missing any timestamp are left out and counted.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { type LatencySummary, latencyHistogram, recordMs, summarize } from './histogram.ts';
import type { OrderLoad } from './load.ts';
import type { Observer } from './observer.ts';
import type { Sut } from './processes.ts';

export const HOP_TOPICS = ['payment-requests', 'payment-completed'] as const;

/** A topic's first message of a key: its Kafka timestamp (CreateTime, ms) and `event-id` header. */
export interface Stamp {
  timestamp: number;
  eventId: string | undefined;
}

export type Stamps = Map<string, Map<string, Stamp>>;

/** Reads `topics` from the beginning up to their current ends; each key's first message per topic. */
export async function readTopics(brokers: readonly string[], topics: readonly string[]): Promise<Stamps> {
  const kafka = new Kafka({ brokers: [...brokers], clientId: 'bench-hops', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, bigint>();
  try {
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic))
        if (BigInt(p.high) > BigInt(p.low)) remaining.set(`${topic}:${p.partition}`, BigInt(p.high) - 1n);
  } finally {
    await admin.disconnect();
  }
  const stamps: Stamps = new Map(topics.map((t) => [t, new Map()]));
  if (remaining.size === 0) return stamps;
  const consumer = kafka.consumer({ groupId: `bench-hops-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 8,
      eachBatch: async ({ batch }) => {
        const byKey = stamps.get(batch.topic)!;
        for (const message of batch.messages) {
          const key = message.key?.toString() ?? '';
          if (!byKey.has(key)) {
            const id = message.headers?.['event-id'];
            byKey.set(key, {
              timestamp: Number(message.timestamp),
              eventId: id === undefined ? undefined : String(Array.isArray(id) ? id.at(-1) : id),
            });
          }
          const part = `${batch.topic}:${batch.partition}`;
          const last = remaining.get(part);
          if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(part);
        }
        if (remaining.size === 0) done();
      },
    });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 60_000).unref());
    await Promise.race([finished, timeout]);
  } finally {
    await consumer.disconnect();
  }
  return stamps;
}

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
  stamps: Stamps,
  observer: Observer,
  sut: Sut,
  prefix: string,
): Promise<HopFigures> {
  // One query per service's database (they may be two).
  const shippedRows = await sut.sql<{ id: string; shipped_ms: string | null }>(
    `select o.id, extract(epoch from s.shipped_at) * 1000 as shipped_ms
     from orders.orders o left join orders.shipments s on s.order_id = o.id
     where o.id like '${prefix}%'`,
    'orders',
  );
  const paymentRows = await sut.sql<{ order_id: string; ms: string }>(
    `select order_id, extract(epoch from created_at) * 1000 as ms from payments.payments
     where order_id like '${prefix}%'`,
    'payments',
  );
  const paymentAt = new Map(paymentRows.map((row) => [row.order_id, Number(row.ms)]));
  const completed = stamps.get('payment-completed')!;
  const requested = stamps.get('payment-requests')!;
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
      'orders',
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
  for (const row of shippedRows) {
    if (!load.created.has(row.id)) continue;
    const sent = load.sentAt.get(row.id);
    const req = requested.get(row.id)?.timestamp;
    const done = completed.get(row.id);
    const paidAt = done?.eventId === undefined ? undefined : paid.get(done.eventId.toLowerCase());
    const seen = observer.seen.get(row.id);
    if (
      sent === undefined ||
      req === undefined ||
      done === undefined ||
      paidAt === undefined ||
      seen === undefined ||
      !paymentAt.has(row.id) ||
      row.shipped_ms === null
    )
      continue;
    const payment = paymentAt.get(row.id)!;
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
