/**
 * What create-order does with an `Idempotency-Key`, apart from the handler's flow: the key's scope, the
 * in-flight error, and turning an answer into a stored record and back.
 * @module
 */
import type { IdempotencyRecord, IdempotencyScope } from '../../db/orders/repo.ts';
import { AppError, type HttpResult, type InvocationMeta } from '../../runtime/index.ts';

/** Requests carry no client identity yet: every key is in the anonymous client's scope. */
export const ANONYMOUS_CLIENT = '';

/**
 * A key is scoped by client and by route (method + template, as matched): `POST /orders` and its alias
 * `POST /order` are two routes, so the same key on each is two requests.
 */
export function idempotencyScope(meta: InvocationMeta, fallbackPath: string): IdempotencyScope {
  const route = meta.route ?? { method: 'POST', path: fallbackPath };
  return { clientId: ANONYMOUS_CLIENT, route: `${route.method} ${route.path}` };
}

/** Another request with the same key is still running: 409, try again shortly (it will then replay). */
export class IdempotencyKeyInUseError extends AppError {
  readonly status = 409;
  readonly code = 'idempotency_key_in_use';
}

export const REPLAYED_HEADER = 'idempotent-replayed';

/**
 * The first answer, as it will be replayed: its status and its body as JSON text. The binding sends the body
 * with `JSON.stringify` too, and `JSON.stringify(JSON.parse(text))` gives back `text` for any text
 * `JSON.stringify` wrote, so a replay is byte for byte the first answer.
 */
export function storedResponse(
  result: HttpResult,
): Pick<IdempotencyRecord, 'responseStatus' | 'responseBody'> {
  return { responseStatus: result.status, responseBody: JSON.stringify(result.body) };
}

/** The stored answer again, marked as a replay; `undefined` for a key stored before answers were. */
export function replayStored(
  record: IdempotencyRecord,
  headers: Record<string, string>,
): HttpResult | undefined {
  if (record.responseStatus === null || record.responseBody === null) return undefined;
  return {
    status: record.responseStatus,
    body: JSON.parse(record.responseBody) as unknown,
    headers: { ...headers, [REPLAYED_HEADER]: 'true' },
  };
}
