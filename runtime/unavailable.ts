/**
 * Failures of a store's database are tagged where they happen: every call the runtime or a handler makes on a
 * store (its repository, its transaction, BEGIN/COMMIT) goes through a guard that turns an error the store
 * classifies as "database unavailable" (`TransactionalStore.isUnavailable`) into a `DependencyUnavailableError`
 * naming `db:<service>`. Everything downstream (HTTP 503, consumer pause) then asks only `infrastructureFailure`.
 * @module
 */
import { AppError, DependencyUnavailableError } from './errors.ts';
import { BATCHED, type TransactionalStore } from './store.ts';

/** `error` as a `DependencyUnavailableError` when `store` says its database is unavailable; otherwise as it is. */
export function unavailableOr(
  store: Pick<TransactionalStore<unknown>, 'service' | 'isUnavailable'>,
  error: unknown,
): unknown {
  if (error instanceof AppError || store.isUnavailable?.(error) !== true) return error;
  return new DependencyUnavailableError(
    `db:${store.service}`,
    `The ${store.service} database is unavailable`,
    {
      cause: error,
    },
  );
}

/**
 * `target` with each method's failures passed through {@link unavailableOr}. For repositories and transaction
 * handles: plain objects of (async) functions. A store without `isUnavailable` gets `target` itself.
 */
export function guarded<T extends object>(
  store: Pick<TransactionalStore<unknown>, 'service' | 'isUnavailable'>,
  target: T,
): T {
  if (store.isUnavailable === undefined) return target;
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      // A repository's batched methods (runtime/store.ts `BATCHED`) are statements too.
      if (property === BATCHED && typeof value === 'object' && value !== null) {
        if (!wrappers.has(property)) wrappers.set(property, guarded(store, value));
        return wrappers.get(property);
      }
      if (typeof value !== 'function') return value;
      let wrapper = wrappers.get(property);
      if (wrapper === undefined) {
        wrapper = (...args: unknown[]) => {
          try {
            const result: unknown = Reflect.apply(value, object, args);
            return result instanceof Promise
              ? result.catch((error: unknown) => {
                  throw unavailableOr(store, error);
                })
              : result;
          } catch (error) {
            throw unavailableOr(store, error);
          }
        };
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

/**
 * One line for `/readyz` about a failed store ping: `unavailable: ECONNREFUSED connect ECONNREFUSED 10.0.0.5:5432`
 * when the store classifies it as an outage, else the innermost cause's message (drivers wrap: "Failed query: select
 * 1" says nothing).
 */
export function describePingFailure(
  store: Pick<TransactionalStore<unknown>, 'service' | 'isUnavailable'>,
  error: unknown,
): string {
  let root: unknown = error;
  for (let depth = 0; depth < 10 && root instanceof Error && root.cause !== undefined; depth++)
    root = root.cause;
  const code = (root as { code?: unknown } | null)?.code;
  const text = root instanceof Error ? root.message : String(root);
  const detail = typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text;
  return store.isUnavailable?.(error) === true ? `unavailable: ${detail}` : detail;
}
