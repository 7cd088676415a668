/**
 * The runtime's public surface for function authors: define functions and events, throw typed errors.
 * Everything else (bindings, config, logging, the outbox relay) is wiring that entry points import directly;
 * test helpers live in `runtime/testing/index.ts`.
 *
 * @example
 * import { z } from 'zod';
 * import { defineHttpFunction, NotFoundError } from '../../runtime/index.ts';
 * import { ordersStore } from '../../db/orders/repo.ts';
 *
 * export const getOrder = defineHttpFunction({
 *   id: 'get-order', method: 'GET', path: '/orders/:id', store: ordersStore,
 *   input: { params: z.object({ id: z.string() }) },
 *   handler: async ({ input, deps }) => {
 *     const order = await deps.db.findOrder(input.params.id);
 *     if (!order) throw new NotFoundError(`Order ${input.params.id} not found`);
 *     return { status: 200, body: order };
 *   },
 * });
 * @module
 */

// Each name keeps the TSDoc and @example of its declaration (define.ts, events.ts, store.ts, errors.ts).
export {
  type AnyEventFunction,
  type AnyFunction,
  type ConsumedEvent,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_RETRY_POLICY,
  defineEventFunction,
  defineHttpFunction,
  type EventContext,
  type EventFunction,
  type EventFunctionConfig,
  type HandlerDeps,
  type HttpContext,
  type HttpFunction,
  type HttpFunctionConfig,
  type HttpInput,
  type HttpInputSchemas,
  type HttpMethod,
  type HttpResult,
  type InvocationMeta,
  type Ports,
  type PrepareContext,
  type RetryPolicy,
} from './define.ts';
export {
  AppError,
  type AppErrorOptions,
  ConflictError,
  DependencyUnavailableError,
  type FieldIssue,
  isRetriable,
  NonRetriableError,
  NotFoundError,
  PayloadTooLargeError,
  RetryLaterError,
  UnprocessableError,
  ValidationError,
} from './errors.ts';
export {
  type CreateEventOptions,
  defineEvent,
  type EventData,
  type EventDefinition,
  type EventDefinitionOptions,
  type EventMessage,
} from './events.ts';
export { type StoreToken, storeToken, type TransactionalStore } from './store.ts';
