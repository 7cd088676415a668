/**
 * Operations tooling: dead letters (list, show, redrive to one group), parked outbox rows (list, republish),
 * consumer lag; behind the CLI (`app/ops.ts`) and HTTP (`./http.ts`, `/ops` with a bearer token).
 * @module
 */
import type { AnyEventFunction } from '../define.ts';
import type { DeadLetterSource } from './dead-letters.ts';

export * from './dead-letters.ts';
export * from './http.ts';
export * from './outbox.ts';
export type * from './ports.ts';

/** The dead-letter sources of the event functions in `functions`. */
export function deadLetterSources(functions: readonly { kind: string }[]): DeadLetterSource[] {
  return functions
    .filter((fn): fn is AnyEventFunction => fn.kind === 'event')
    .map((fn) => ({
      functionId: fn.id,
      groupId: fn.groupId,
      deadLetterTopic: fn.deadLetterTopic,
      redriveTopic: fn.redriveTopic,
      topics: [
        ...new Set([
          ...(fn.events as readonly { topic: string }[]).map((e) => e.topic),
          ...(fn.extraTopics ?? []),
        ]),
      ],
    }));
}
