/**
 * What must hold after a chaos run, read straight from the scratch database (SQL, not the services' APIs)
 * and from the broker (kafkajs admin): every acknowledged order reached an end state, was charged once, and
 * agrees with its payment and shipment; no event is left in an outbox and none was dead-lettered.
 * @module
 */
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { toCents } from './fake-provider.ts';

export interface OrderCheck {
  /** Acknowledged orders. */
  acked: number;
  /** Acknowledged orders in SHIPPED or CANCELLED. */
  terminal: number;
  /** Acknowledged but not in the database at all. */
  lost: number;
  /** Orders with more than one payment. */
  duplicatePayments: number;
  /** Acknowledged orders without a payment. */
  missingPayments: number;
  /** Order ↔ payment ↔ shipment disagreements (see `mismatchOf`), and payments with the wrong outcome. */
  mismatches: number;
  /** CANCELLED orders without their payment-failed notification. */
  missingNotifications: number;
  /** Orders in the database the client never had acknowledged (e.g. a POST whose answer was lost), not terminal. */
  strayNotTerminal: number;
  /** Unpublished outbox rows, both services. */
  outboxLeft: number;
  /** Up to 5 examples per problem, for the report. */
  examples: Record<string, string[]>;
}

interface Row {
  id: string;
  amount_minor: string;
  status: string;
  payment_status: string;
  payments: number;
  payment: string | null;
  payment_amount: string | null;
  shipped: boolean;
  notified: boolean;
}

/** Reads every order with its payments, shipment and notification, and checks them against `acked`. */
export async function checkOrders(
  db: pg.Pool,
  acked: ReadonlyMap<string, string>,
  limit = '300',
): Promise<OrderCheck> {
  const { rows } = await db.query<Row>(`
    select o.id, o.amount_minor::text, o.status, o.payment_status,
           coalesce(p.n, 0)::int as payments, p.status as payment, p.amount::text as payment_amount,
           exists (select 1 from orders.shipments s where s.order_id = o.id) as shipped,
           exists (select 1 from orders.notifications n where n.order_id = o.id and n.kind = 'payment-failed') as notified
      from orders.orders o
      left join (select order_id, count(*) as n, min(status) as status, min(amount_minor) as amount
                   from payments.payments group by order_id) p on p.order_id = o.id`);
  const outbox = await db.query<{ n: string }>(`
    select ((select count(*) from orders.outbox where published_at is null)
          + (select count(*) from payments.outbox where published_at is null))::text as n`);

  const examples: Record<string, string[]> = {};
  const note = (problem: string, text: string) => {
    const list = examples[problem] ?? [];
    examples[problem] = list;
    if (list.length < 5) list.push(text);
  };
  const limitCents = toCents(limit);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const check: OrderCheck = {
    acked: acked.size,
    terminal: 0,
    lost: 0,
    duplicatePayments: 0,
    missingPayments: 0,
    mismatches: 0,
    missingNotifications: 0,
    strayNotTerminal: 0,
    outboxLeft: Number(outbox.rows[0]?.n ?? 0),
    examples,
  };
  for (const [id, amount] of acked) {
    const row = byId.get(id);
    if (row === undefined) {
      check.lost += 1;
      note('lost', id);
      continue;
    }
    const describe = `${id} ${row.status}/${row.payment_status} payment=${row.payment ?? '-'} shipped=${row.shipped} amount=${amount}`;
    if (isTerminal(row.status)) check.terminal += 1;
    else note('not-terminal', describe);
    if (row.payments === 0) {
      check.missingPayments += 1;
      note('missing-payment', describe);
    }
    const expected = toCents(amount) > limitCents ? 'FAILED' : 'COMPLETED';
    const mismatch =
      mismatchOf(row) ??
      (row.payment !== null && row.payment !== expected ? `expected ${expected}` : undefined);
    if (mismatch !== undefined) {
      check.mismatches += 1;
      note('mismatch', `${describe}: ${mismatch}`);
    }
    if (row.status === 'CANCELLED' && !row.notified) {
      check.missingNotifications += 1;
      note('missing-notification', describe);
    }
  }
  for (const row of rows) {
    if (row.payments > 1) {
      check.duplicatePayments += 1;
      note('duplicate-payment', `${row.id} payments=${row.payments}`);
    }
    if (!acked.has(row.id) && !isTerminal(row.status)) {
      check.strayNotTerminal += 1;
      note('stray', `${row.id} ${row.status}`);
    }
  }
  return check;
}

function isTerminal(status: string): boolean {
  return status === 'SHIPPED' || status === 'CANCELLED';
}

/**
 * payment COMPLETED ⇔ order SHIPPED/PAID; payment FAILED ⇔ CANCELLED/FAILED; a shipment exists ⇔ SHIPPED;
 * the payment's amount is the order's. An order still without a payment is not a mismatch (it is missing).
 */
export function mismatchOf(row: Row): string | undefined {
  if (row.shipped !== (row.status === 'SHIPPED')) return `shipment=${row.shipped} but status ${row.status}`;
  if (row.payment === null) return undefined;
  if (row.payment_amount !== row.amount_minor)
    return `payment amount ${row.payment_amount} ≠ ${row.amount_minor}`;
  if (row.payment === 'COMPLETED' && !(row.status === 'SHIPPED' && row.payment_status === 'PAID'))
    return 'payment COMPLETED but order not SHIPPED/PAID';
  if (row.payment === 'FAILED' && !(row.status === 'CANCELLED' && row.payment_status === 'FAILED'))
    return 'payment FAILED but order not CANCELLED/FAILED';
  return undefined;
}

/** Messages on each dead-letter topic, and the first few reasons (headers `dlq-function`, `dlq-kind`, `dlq-reason`). */
export interface DeadLetters {
  total: number;
  byTopic: Record<string, number>;
  reasons: string[];
}

/** Counts the messages of every `<function-id>.dlq` topic (high − low watermark) and reads their reasons. */
export async function readDeadLetters(brokers: readonly string[]): Promise<DeadLetters> {
  const kafka = new Kafka({ brokers: [...brokers], clientId: 'chaos-check', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.endsWith('.dlq')).sort();
    const byTopic: Record<string, number> = {};
    let total = 0;
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      const n = offsets.reduce((sum, p) => sum + (Number(p.high) - Number(p.low)), 0);
      byTopic[topic] = n;
      total += n;
    }
    const reasons = total === 0 ? [] : await readReasons(kafka, topics, total);
    return { total, byTopic, reasons };
  } finally {
    await admin.disconnect();
  }
}

async function readReasons(kafka: Kafka, topics: string[], total: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `chaos-dlq-reader-${process.pid}-${Date.now()}` });
  const counts = new Map<string, number>();
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 15_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const h = (name: string) => message.headers?.[name]?.toString() ?? '?';
          const reason = h('dlq-reason')
            .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
            .replace(/\border \S+/g, 'order <id>')
            .slice(0, 200);
          const key = `${h('dlq-function')} ${h('dlq-kind')} ${h('dlq-error')}: ${reason}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
          seen += 1;
          if (seen >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${n}× ${reason}`);
}
