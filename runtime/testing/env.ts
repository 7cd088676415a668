import type { Ports } from '../define.ts';
import type { RuntimeEnv } from '../invoke.ts';
import { createSilentLogger } from '../logger.ts';
import type { TransactionalStore } from '../store.ts';

export interface TestEnvOptions {
  /** The stores the functions under test use: a list (keyed by `service`) or a record by service. */
  stores: readonly TransactionalStore<unknown>[] | Record<string, TransactionalStore<unknown>>;
  /** Ports the functions under test need; the others may be left out. */
  ports?: Partial<Ports>;
  /** Start time of the clock (default 2030-01-01T00:00:00Z). */
  now?: Date | string;
}

/** A `RuntimeEnv` for tests: a clock that only moves when told, a silent logger, and a record of commits. */
export interface TestEnv extends RuntimeEnv {
  /** Moves the clock forward by `ms` and returns the new time. */
  advance(ms: number): Date;
  /** Sets the clock. */
  setTime(time: Date | string): void;
  /** Service of every commit that wrote outbox rows, in order (what `onCommitted` received). */
  readonly committed: string[];
}

export const DEFAULT_TEST_TIME = '2030-01-01T00:00:00.000Z';

/**
 * Builds the environment per-function tests invoke functions in.
 * @example
 * const env = createTestEnv({ stores: [ordersStore], ports: { notifier } });
 * env.advance(60_000); // one minute later
 */
export function createTestEnv(options: TestEnvOptions): TestEnv {
  let time = new Date(options.now ?? DEFAULT_TEST_TIME).getTime();
  if (Number.isNaN(time)) throw new Error(`createTestEnv: invalid start time ${String(options.now)}`);
  const stores = Array.isArray(options.stores)
    ? Object.fromEntries(
        (options.stores as readonly TransactionalStore<unknown>[]).map((s) => [s.service, s]),
      )
    : (options.stores as Record<string, TransactionalStore<unknown>>);
  const committed: string[] = [];
  return {
    stores,
    ports: (options.ports ?? {}) as Ports,
    clock: () => new Date(time),
    logger: createSilentLogger(),
    onCommitted: (service) => committed.push(service),
    committed,
    advance(ms) {
      time += ms;
      return new Date(time);
    },
    setTime(next) {
      time = new Date(next).getTime();
    },
  };
}
