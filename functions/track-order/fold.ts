/**
 * What one Kafka record adds to an order's timeline: a pure function of the record (its event, topic,
 * partition, offset, headers and timestamp), so the read model is rebuilt by replaying the topics.
 * @module
 */
import {
  ConsumerAttemptRecorded,
  ConsumerAttemptsRecorded,
  type LoggedAttempt,
} from '../../runtime/attempt-log.ts';
import type { EventMessage } from '../../runtime/index.ts';

export type TimelineEntry =
  | {
      kind: 'event';
      at: string;
      eventId: string;
      eventType: string;
      topic: string;
      partition: number;
      offset: string;
      /** The function whose handler emitted it (`null` for events written outside a handler). */
      producer: string | null;
      /** When the relay published it (the Kafka record's timestamp). */
      publishedAt: string | null;
    }
  | {
      kind: 'attempt';
      at: string;
      functionId: string;
      groupId: string;
      eventId: string;
      eventType: string;
      topic: string;
      partition: number;
      offset: string;
      attempt: number;
      outcome: 'handled' | 'duplicate' | 'retried' | 'dead-lettered';
      durationMs: number;
      error: string | null;
    }
  | {
      kind: 'dead-letter';
      at: string;
      functionId: string;
      eventId: string;
      eventType: string;
      /** The dead-letter topic and where on it (the entry `ops dlq` names). */
      topic: string;
      entry: string;
      reason: string | null;
      errorKind: string | null;
      attempts: number | null;
    }
  | {
      kind: 'redrive';
      at: string;
      functionId: string;
      eventId: string;
      eventType: string;
      topic: string;
      count: number;
    };

export interface RecordSource {
  topic: string;
  partition: number;
  offset: string;
  headers?: Readonly<Record<string, string>>;
  timestamp?: string;
}

const DLQ_SUFFIX = '.dlq';
const REDRIVE_SUFFIX = '.redrive';

/** One timeline entry of one order. */
export interface Folded {
  orderId: string;
  entry: TimelineEntry;
}

/**
 * The timeline entries one record adds (one per order it concerns; none when it says nothing about an order):
 * an attempt-log record of version 2 carries the attempts of a whole batch, possibly of several orders.
 */
export function foldRecord(event: EventMessage, source: RecordSource): Folded[] {
  if (source.topic === ConsumerAttemptRecorded.topic && event.type === ConsumerAttemptRecorded.name) {
    if (event.version === ConsumerAttemptsRecorded.version) {
      const { functionId, groupId, attempts } = ConsumerAttemptsRecorded.schema.parse(event.data);
      return attempts.map((a) => attemptEntry(functionId, groupId, a));
    }
    const { functionId, groupId, ...a } = ConsumerAttemptRecorded.schema.parse(event.data);
    return [attemptEntry(functionId, groupId, a)];
  }
  return [foldOther(event, source)];
}

function attemptEntry(functionId: string, groupId: string, a: LoggedAttempt): Folded {
  return {
    orderId: a.key,
    entry: {
      kind: 'attempt',
      at: a.startedAt,
      functionId,
      groupId,
      eventId: a.eventId,
      eventType: a.eventType,
      topic: a.topic,
      partition: a.partition,
      offset: a.offset,
      attempt: a.attempt,
      outcome: a.outcome,
      durationMs: a.durationMs,
      error: a.error,
    },
  };
}

/** An event, a dead letter or a redrive: one entry for the order it is keyed by. */
function foldOther(event: EventMessage, source: RecordSource): Folded {
  const h = source.headers ?? {};
  const published = source.timestamp === undefined ? null : new Date(Number(source.timestamp)).toISOString();
  const base = { eventId: event.id, eventType: event.type };
  if (source.topic.endsWith(DLQ_SUFFIX)) {
    return {
      orderId: event.key,
      entry: {
        kind: 'dead-letter',
        at: h['dlq-failed-at'] ?? published ?? event.time,
        functionId: h['dlq-function'] ?? source.topic.slice(0, -DLQ_SUFFIX.length),
        ...base,
        topic: source.topic,
        entry: `${source.partition}:${source.offset}`,
        reason: h['dlq-reason'] ?? null,
        errorKind: h['dlq-kind'] ?? null,
        attempts: h['dlq-attempts'] === undefined ? null : Number(h['dlq-attempts']),
      },
    };
  }
  if (source.topic.endsWith(REDRIVE_SUFFIX)) {
    return {
      orderId: event.key,
      entry: {
        kind: 'redrive',
        at: h['redrive-at'] ?? published ?? event.time,
        functionId: source.topic.slice(0, -REDRIVE_SUFFIX.length),
        ...base,
        topic: source.topic,
        count: Number(h['redrive-count'] ?? 1),
      },
    };
  }
  return {
    orderId: event.key,
    entry: {
      kind: 'event',
      at: event.time,
      ...base,
      topic: source.topic,
      partition: source.partition,
      offset: source.offset,
      producer: h['event-producer'] ?? null,
      publishedAt: published,
    },
  };
}
