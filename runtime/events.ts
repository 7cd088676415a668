/**
 * Event definitions: one object is both the trigger a consumer names and the factory a producer calls.
 * Wire schemas have no transforms, so what is sent is exactly what is parsed.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';

/** An event ready to be written to the outbox and published: envelope + validated payload. */
export interface EventMessage<TData = unknown, TName extends string = string> {
  /** Unique id of this event (UUID); consumers dedupe on it. */
  id: string;
  type: TName;
  version: number;
  topic: string;
  /** Kafka message key: all events of one order share a key, so they stay in order on one partition. */
  key: string;
  /** ISO-8601 time the event was created. */
  time: string;
  data: TData;
  /** Travels in Kafka headers from the HTTP request that started the flow. */
  correlationId?: string;
  /** Id of the event (or request) that caused this one. */
  causationId?: string;
}

export interface CreateEventOptions {
  id?: string;
  time?: Date;
  correlationId?: string;
  causationId?: string;
}

export interface EventDefinitionOptions<TSchema extends z.ZodType> {
  /** Schema version carried in the envelope; consumers reject versions they do not know. */
  version: number;
  /** Kafka topic the event is published to. */
  topic: string;
  schema: TSchema;
  /** Message key, derived from the payload (e.g. the order id). */
  key: (data: z.infer<TSchema>) => string;
}

export interface EventDefinition<TName extends string = string, TSchema extends z.ZodType = z.ZodType> {
  readonly name: TName;
  readonly version: number;
  readonly topic: string;
  readonly schema: TSchema;
  readonly key: (data: z.infer<TSchema>) => string;
  /** Validates `data` and wraps it in an envelope. Throws a `ZodError` on invalid data (a programming error). */
  create(data: z.infer<TSchema>, options?: CreateEventOptions): EventMessage<z.infer<TSchema>, TName>;
}

/** The payload type of an event definition. */
export type EventData<E> = E extends EventDefinition<string, infer S> ? z.infer<S> : never;

/**
 * Defines an event type.
 * @example
 * export const PaymentRequested = defineEvent('PaymentRequested', {
 *   version: 1,
 *   topic: 'payment-requests',
 *   schema: z.object({ orderId: z.string(), amount: z.string(), currency: z.string() }),
 *   key: (data) => data.orderId,
 * });
 * const message = PaymentRequested.create({ orderId: 'o-1', amount: '50.00', currency: 'USD' });
 */
export function defineEvent<TName extends string, TSchema extends z.ZodType>(
  name: TName,
  options: EventDefinitionOptions<TSchema>,
): EventDefinition<TName, TSchema> {
  return {
    name,
    version: options.version,
    topic: options.topic,
    schema: options.schema,
    key: options.key,
    create(data, createOptions = {}) {
      const parsed = options.schema.parse(data) as z.infer<TSchema>;
      return {
        id: createOptions.id ?? randomUUID(),
        type: name,
        version: options.version,
        topic: options.topic,
        key: options.key(parsed),
        time: (createOptions.time ?? new Date()).toISOString(),
        data: parsed,
        ...(createOptions.correlationId === undefined ? {} : { correlationId: createOptions.correlationId }),
        ...(createOptions.causationId === undefined ? {} : { causationId: createOptions.causationId }),
      };
    },
  };
}
