/**
 * The Kafka wire format of an `EventMessage`. The outbox encodes with it; the Kafka binding decodes with it.
 *
 * - value: UTF-8 JSON `{"id","type","version","time","data"}` — the envelope, nothing transport-specific;
 * - key: `message.key` (the order id), so one order's events stay on one partition;
 * - headers (strings): `event-id`, `event-type`, `event-version`, `content-type: application/json`,
 *   and `correlation-id` / `causation-id` when set.
 *
 * The value is authoritative for id, type and version; correlation and causation travel only in headers;
 * the topic comes from the event definition.
 * @module
 */
import { z } from 'zod';
import { NonRetriableError } from './errors.ts';
import type { EventDefinition, EventMessage } from './events.ts';
import { acceptId } from './ids.ts';
import { describeIssues, toFieldIssues } from './issues.ts';
import type { NewOutboxRecord } from './store.ts';

/** Header names of the wire format. */
export const EventHeaders = {
  id: 'event-id',
  type: 'event-type',
  version: 'event-version',
  contentType: 'content-type',
  correlationId: 'correlation-id',
  causationId: 'causation-id',
} as const;

export const EVENT_CONTENT_TYPE = 'application/json';

/** A message as a Kafka client hands it over (kafkajs `KafkaMessage` fits). */
export interface RawEventMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** kafkajs may hand over a repeated header as an array; the last value wins. */
  headers: Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>;
}

export type DecodeResult = { ok: true; message: EventMessage } | { ok: false; reason: string };

/** A message that can never be handled as it is (bad JSON, envelope, type, version or payload): dead-letter it. */
export class EventDecodeError extends NonRetriableError {}

/** Encodes an event as one outbox row (= one Kafka message). */
export function encodeEvent(message: EventMessage): NewOutboxRecord {
  const headers: Record<string, string> = {
    [EventHeaders.id]: message.id,
    [EventHeaders.type]: message.type,
    [EventHeaders.version]: String(message.version),
    [EventHeaders.contentType]: EVENT_CONTENT_TYPE,
  };
  if (message.correlationId !== undefined) headers[EventHeaders.correlationId] = message.correlationId;
  if (message.causationId !== undefined) headers[EventHeaders.causationId] = message.causationId;
  const { id, type, version, time, data } = message;
  return {
    eventId: id,
    topic: message.topic,
    key: message.key,
    value: JSON.stringify({ id, type, version, time, data }),
    headers,
  };
}

/**
 * The one form event ids are compared in: lower-case UUID text, as PostgreSQL and SQL Server print them.
 * `z.uuid()` accepts either case, so ids are canonicalised once, at decode; nothing compares raw id text.
 * @example canonicalEventId('0B5E…-…') // '0b5e…-…'
 */
export function canonicalEventId(id: string): string {
  return id.toLowerCase();
}

const envelopeSchema = z.object({
  // Event ids are UUIDs (inboxes and outboxes store them as such): anything else is a poison message.
  id: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  time: z.iso.datetime({ offset: true }),
  data: z.unknown().refine((data) => data !== undefined, 'Required'),
});

/**
 * Decodes and validates a raw Kafka message against the events a consumer accepts.
 * Never throws: a message that can never be handled comes back as `{ ok: false, reason }` for the dead-letter topic.
 * @example
 * const decoded = decodeEvent(kafkaMessage, [PaymentCompleted, PaymentFailed]);
 * if (!decoded.ok) await deadLetter(kafkaMessage, decoded.reason);
 */
export function decodeEvent(raw: RawEventMessage, accepted: readonly EventDefinition[]): DecodeResult {
  if (raw.value === null || raw.value.length === 0) return fail('empty message value');
  let json: unknown;
  const text = raw.value.toString('utf8');
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`malformed JSON: ${(error as Error).message}`);
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return fail(`invalid envelope: ${describeIssues(toFieldIssues(envelope.error))}`);
  const { type, version, time, data } = envelope.data;
  const id = canonicalEventId(envelope.data.id);

  const sameType = accepted.filter((definition) => definition.name === type);
  if (sameType.length === 0) {
    return fail(`unknown event type "${type}" (accepted: ${names(accepted.map((d) => d.name))})`);
  }
  const definition = sameType.find((candidate) => candidate.version === version);
  if (definition === undefined) {
    return fail(
      `unknown version ${version} of ${type} (accepted: ${names(sameType.map((d) => String(d.version)))})`,
    );
  }
  const payload = definition.schema.safeParse(data);
  if (!payload.success) {
    return fail(`invalid ${type} v${version} payload: ${describeIssues(toFieldIssues(payload.error))}`);
  }

  if (text.includes('\\u0000') && containsNul(payload.data)) {
    return fail(
      `invalid ${type} v${version} payload: a text field contains U+0000 (NUL), which no text column stores`,
    );
  }
  // Tracing ids are honoured only when safe (as over HTTP); anything else is dropped, never stored or forwarded.
  const correlationId = acceptId(header(raw.headers, EventHeaders.correlationId));
  const causationId = acceptId(header(raw.headers, EventHeaders.causationId));
  const message: EventMessage = {
    id,
    type,
    version,
    topic: definition.topic,
    key: raw.key === null ? definition.key(payload.data) : raw.key.toString('utf8'),
    time,
    data: payload.data,
    ...(correlationId === undefined ? {} : { correlationId }),
    ...(causationId === undefined ? {} : { causationId }),
  };
  return { ok: true, message };
}

function header(headers: RawEventMessage['headers'], name: string): string | undefined {
  const entry = headers[name];
  const value = Array.isArray(entry) ? entry.at(-1) : (entry as Buffer | string | undefined);
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : value.toString('utf8');
  return text === '' ? undefined : text;
}

/** True when any string in `value` (deeply) contains U+0000. */
function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsNul);
  return false;
}

function fail(reason: string): DecodeResult {
  return { ok: false, reason };
}

function names(list: readonly string[]): string {
  return [...new Set(list)].join(', ');
}
