/**
 * What the Kafka fuzz suite expects of each consumer group after a run, checked against what the database and
 * the dead-letter topic hold: each produced message handled once (inbox row, one effect) or dead-lettered once
 * with a reason and its key and value; handled + duplicates + dead-lettered = produced. Two known defects are
 * recognised and collected in `Defects` instead of failing the run.
 * @module
 */
import { sql } from 'drizzle-orm';
import type { KafkaMessage } from 'kafkajs';
import { Topics } from '../../contracts/events.ts';
import type { TestDatabase } from '../../db/postgres/test-database.ts';
import type { EventConsumer } from '../../runtime/kafka/consumer.ts';
import type { AnyEventFunction } from '../../runtime/kafka/process-message.ts';
import { headerText, type TopicReader } from '../../runtime/kafka/test-kit.ts';
import type { Produced } from './kafka-messages.ts';

/** Known defects, collected across runs (asserted by the suite's `it.fails`). */
export interface Defects {
  /** Issue 9 defect 1: events with an upper- or mixed-case id skipped as duplicates in the batched path. */
  lostUpperCase: string[];
  /** Valid events dead-lettered because their correlation-id header holds a NUL. */
  nulDeadLettered: string[];
}

/** One consumer group under test and what the model knows of it. */
export interface Group {
  name: string;
  fn: AnyEventFunction;
  batchSize: number;
  ships: boolean;
  consumer?: EventConsumer;
  dlq?: TopicReader;
  /** Canonical ids the group has handled (its inbox, as expected). */
  handled: Set<string>;
  /** `partition/offset` of every message it dead-lettered so far. */
  deadLetterOffsets: Set<string>;
  stats: { produced: number; handled: number; duplicates: number; deadLettered: number; nonLowerIds: number };
}

export interface Observed {
  inbox: Map<string, Set<string>>;
  effects: Map<string, Map<string, number>>;
  shipped: Map<string, { status: string; shipments: number; announced: number }>;
}

/** Reads what the database now holds: inbox rows per group, effects per counting function, orders and shipments. */
export async function observe(db: TestDatabase): Promise<Observed> {
  const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;
  const inboxRows = rows<{ consumer: string; id: string }>(
    await db.db.execute(sql`select consumer, event_id::text as id from orders.inbox`),
  );
  const effectRows = rows<{ value: string }>(
    await db.db.execute(sql`select value from orders.outbox where topic = 'fuzz-effects'`),
  );
  const orderRows = rows<{ id: string; status: string; shipments: number; announced: number }>(
    await db.db.execute(sql`
      select o.id, o.status, coalesce(s.n, 0)::int as shipments, coalesce(x.n, 0)::int as announced
      from orders.orders o
      left join (select order_id, count(*) as n from orders.shipments group by order_id) s on s.order_id = o.id
      left join (select key, count(*) as n from orders.outbox where topic = 'order-shipped' group by key) x on x.key = o.id`),
  );
  const inbox = new Map<string, Set<string>>();
  for (const row of inboxRows) inbox.set(row.consumer, (inbox.get(row.consumer) ?? new Set()).add(row.id));
  const effects = new Map<string, Map<string, number>>();
  for (const row of effectRows) {
    const { consumer, sourceEventId } = (
      JSON.parse(row.value) as { data: { consumer: string; sourceEventId: string } }
    ).data;
    const byId = effects.get(consumer) ?? new Map<string, number>();
    const id = sourceEventId.toLowerCase();
    byId.set(id, (byId.get(id) ?? 0) + 1);
    effects.set(consumer, byId);
  }
  return { inbox, effects, shipped: new Map(orderRows.map((r) => [r.id, r])) };
}

/** Checks one group after a run; returns the hard problems (soft ones go to the defect lists). */
export function checkGroup(
  group: Group,
  produced: Produced[],
  observed: Observed,
  defects: Defects,
): string[] {
  const problems: string[] = [];
  const handleable = (p: Produced) => p.event !== undefined && (!group.ships || p.event.knownOrder);
  const byOffset = new Map(produced.map((p) => [`${p.message.partition}/${p.offset}`, p]));
  const seen = group.deadLetterOffsets;

  // Dead letters of this run: one per message, with a reason, the original key and value.
  const deadLettered = new Set<Produced>();
  for (const dead of group.dlq!.messages) {
    const where = `${headerText(dead, 'dlq-original-partition')}/${headerText(dead, 'dlq-original-offset')}`;
    const original = byOffset.get(where);
    if (original === undefined) continue; // an earlier run's
    if (seen.has(where)) problems.push(`${where} dead-lettered twice`);
    seen.add(where);
    deadLettered.add(original);
    problems.push(...deadLetterProblems(group, dead, original, where));
  }
  const inbox = observed.inbox.get(group.fn.groupId) ?? new Set<string>();
  const inboxNew = new Set([...inbox].filter((id) => !group.handled.has(id)));
  const batched = group.batchSize > 1;
  const ofId = (id: string) => produced.filter((p) => p.event?.id === id);
  const nonLower = (id: string) => ofId(id).some((p) => p.idText !== id);
  /** Events the handler would dead-letter (ship-order: no such order) that defect 1 skipped as duplicates. */
  const skipped = new Set<string>();
  let skippedMessages = 0;
  let nulMessages = 0;
  for (const p of produced) {
    const where = `${p.message.partition}/${p.offset}`;
    if (!handleable(p) && !deadLettered.has(p)) {
      const id = p.event?.id;
      if (id !== undefined && group.handled.has(id)) {
        skippedMessages += 1; // an earlier run's event that defect 1 skipped: its inbox row makes this a duplicate
      } else if (id !== undefined && batched && inboxNew.has(id) && nonLower(id)) {
        if (!skipped.has(id)) {
          defects.lostUpperCase.push(
            `${group.name}: event ${ofId(id)
              .map((m) => m.idText)
              .join(' / ')} for missing order ${p.event!.orderId} taken for a duplicate, not dead-lettered`,
          );
        }
        skipped.add(id);
        skippedMessages += 1;
      } else {
        problems.push(`${where} (${p.kind}) was not dead-lettered`);
      }
    }
    if (handleable(p) && deadLettered.has(p)) {
      if (p.nulCorrelation) {
        defects.nulDeadLettered.push(`${group.name} ${where} event ${p.idText}: ${reasonOf(group, where)}`);
        nulMessages += 1;
      } else {
        problems.push(`${where} (${p.kind}, event ${p.idText}) was dead-lettered: ${reasonOf(group, where)}`);
      }
    }
  }

  // Handled exactly once: one inbox row per new event id (ids compared canonically, in lower case).
  const delivered = new Map<string, Produced[]>();
  for (const p of produced) {
    if (handleable(p) && !deadLettered.has(p))
      delivered.set(p.event!.id, [...(delivered.get(p.event!.id) ?? []), p]);
  }
  const fresh = [...delivered.keys()].filter((id) => !group.handled.has(id));
  for (const id of fresh)
    if (!inboxNew.has(id)) problems.push(`event ${id} was delivered but has no inbox row`);
  for (const id of inboxNew) {
    if (!delivered.has(id) && !skipped.has(id))
      problems.push(`inbox row for ${id}, which was never delivered whole`);
  }

  for (const id of fresh) {
    const messages = delivered.get(id)!;
    const texts = messages.map((p) => p.idText).join(' / ');
    if (group.ships) {
      const order = observed.shipped.get(messages[0]!.event!.orderId);
      const ok = order?.status === 'SHIPPED' && order.shipments === 1 && order.announced === 1;
      if (!ok && nonLower(id) && batched && order?.shipments === 0) {
        defects.lostUpperCase.push(
          `${group.name}: event ${texts} skipped, order ${messages[0]!.event!.orderId} left ${order.status}`,
        );
      } else if (!ok) {
        problems.push(`order ${messages[0]!.event!.orderId} after event ${id}: ${JSON.stringify(order)}`);
      }
    } else {
      const effects = observed.effects.get(group.fn.id)?.get(id) ?? 0;
      if (effects === 0 && nonLower(id) && batched) {
        defects.lostUpperCase.push(
          `${group.name}: event ${texts} has an inbox row but its handler never ran`,
        );
      } else if (effects !== 1) {
        problems.push(`event ${id} has ${effects} effects`);
      }
    }
  }
  if (group.ships) {
    for (const [id, order] of observed.shipped) {
      if (order.shipments > 1 || order.announced > 1)
        problems.push(`order ${id} shipped ${order.shipments}×, announced ${order.announced}×`);
    }
  } else {
    for (const [id, n] of observed.effects.get(group.fn.id) ?? []) {
      if (n > 1 || !inbox.has(id)) problems.push(`event ${id}: ${n} effects, inbox row ${inbox.has(id)}`);
    }
  }

  // Accounting: handled + duplicates + dead-lettered = produced, as the model says (less the defects collected).
  const handled = inboxNew.size;
  const dead = deadLettered.size;
  const duplicates = produced.length - handled - dead;
  const handleableIds = new Set(
    produced.filter((p) => handleable(p) && !group.handled.has(p.event!.id)).map((p) => p.event!.id),
  );
  const nulOnly = [...handleableIds].filter((id) => !delivered.has(id)).length;
  const expectedHandled = handleableIds.size - nulOnly + skipped.size;
  const expectedDead = produced.filter((p) => !handleable(p)).length - skippedMessages + nulMessages;
  if (handled !== expectedHandled || dead !== expectedDead) {
    problems.push(
      `handled ${handled}, dead-lettered ${dead}; expected ${expectedHandled} and ${expectedDead}`,
    );
  }
  const s = group.stats;
  s.produced += produced.length;
  s.handled += handled;
  s.duplicates += duplicates;
  s.deadLettered += dead;
  if (group.batchSize > 1)
    s.nonLowerIds += produced.filter((p) => handleable(p) && p.idText !== p.event!.id).length;
  for (const id of [...fresh, ...skipped]) group.handled.add(id);
  return problems.map((p) => `${group.name}: ${p}`);
}

function deadLetterProblems(group: Group, dead: KafkaMessage, original: Produced, where: string): string[] {
  const problems: string[] = [];
  const reason = headerText(dead, 'dlq-reason');
  if (reason === undefined || reason === '') problems.push(`${where} dead-lettered without a dlq-reason`);
  if (headerText(dead, 'dlq-function') !== group.fn.id)
    problems.push(`${where} dlq-function ${headerText(dead, 'dlq-function')}`);
  if (headerText(dead, 'dlq-original-topic') !== Topics.paymentCompleted)
    problems.push(`${where} dlq-original-topic`);
  const kind = headerText(dead, 'dlq-kind');
  const expectedKind =
    original.event === undefined ? 'invalid-message' : original.nulCorrelation ? undefined : 'non-retriable';
  if (expectedKind !== undefined && kind !== expectedKind)
    problems.push(`${where} dlq-kind ${kind}, expected ${expectedKind} (${reason})`);
  const bytes = (v: unknown) =>
    v === null || v === undefined ? '' : Buffer.from(v as string).toString('hex');
  if (bytes(dead.value) !== bytes(original.message.value))
    problems.push(`${where} value changed on the way to the dead-letter topic`);
  if (bytes(dead.key) !== bytes(original.message.key))
    problems.push(`${where} key changed on the way to the dead-letter topic`);
  return problems;
}

function reasonOf(group: Group, where: string): string | undefined {
  const dead = group.dlq!.messages.find(
    (m) => `${headerText(m, 'dlq-original-partition')}/${headerText(m, 'dlq-original-offset')}` === where,
  );
  return dead === undefined ? undefined : headerText(dead, 'dlq-reason');
}
