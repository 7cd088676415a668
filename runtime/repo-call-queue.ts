/**
 * The repository of one group-commit transaction, shared by members that run concurrently
 * (`groupCommit: 'concurrent'` functions, runtime/group-commit.ts).
 *
 * Every method call goes through one queue and runs after the previous one finished, in call order, so the
 * transaction's connection never has two statements in flight (`pg` deprecates that, `mssql` refuses it). Calls
 * to a **batched** method (one a repository lists under {@link BATCHED}) that are waiting together run as one
 * call of its batch form, in call order: e.g. every member's `insertOrder` becomes one multi-row INSERT.
 * @module
 */
import { BATCHED, type BatchedMethods } from './store.ts';

/** The method name of a {@link RepoCallQueue.run} call (no repository method is named so). */
const RUN = '\u0000run';

interface Call {
  method: string;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Thrown to calls made after the group already failed: their work would be rolled back anyway. */
export class GroupAbortedError extends Error {
  override name = 'GroupAbortedError';
}

export class RepoCallQueue {
  readonly #repo: Record<string | symbol, unknown>;
  readonly #batched: BatchedMethods;
  #pending: Call[] = [];
  #running = false;
  #started = false;
  #aborted: unknown;
  /** The error of a batched call made for more than one caller (nobody's alone), if one failed. */
  sharedFailure: unknown;
  /** The repository as members see it: each method call queued. */
  readonly repo: object;

  constructor(repo: object) {
    this.#repo = repo as Record<string | symbol, unknown>;
    this.#batched = (this.#repo[BATCHED] as BatchedMethods | undefined) ?? {};
    this.repo = new Proxy(repo, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property === 'symbol') return value;
        return (...args: unknown[]) => this.#call(property, args);
      },
    });
  }

  /** Runs the calls made so far, then each as it comes. Until then calls only queue, so they can batch. */
  start(): void {
    this.#started = true;
    void this.#pump();
  }

  /** Whether {@link abort} was called. */
  get aborted(): boolean {
    return this.#aborted !== undefined;
  }

  /** Fails every waiting and later call with `GroupAbortedError`. */
  abort(reason: string): void {
    this.#aborted ??= new GroupAbortedError(reason);
    for (const call of this.#pending.splice(0)) call.reject(this.#aborted);
  }

  /** Runs `work` (another statement of the transaction) in its turn, like a repository call. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.#call(RUN, [work]) as Promise<T>;
  }

  #call(method: string, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#aborted !== undefined) return reject(this.#aborted);
      this.#pending.push({ method, args, resolve, reject });
      // A call after start waits one microtask turn, so members resuming together can batch again.
      if (this.#started && !this.#running) queueMicrotask(() => void this.#pump());
    });
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#pending.length > 0) {
        const head = this.#pending[0]!;
        const batch = this.#batched[head.method];
        const calls =
          batch === undefined
            ? this.#pending.splice(0, 1)
            : this.#take((call) => call.method === head.method);
        try {
          if (head.method === RUN) {
            head.resolve(await (head.args[0] as () => Promise<unknown>)());
          } else if (batch === undefined) {
            const method = this.#repo[head.method] as (...args: unknown[]) => Promise<unknown>;
            head.resolve(await method.apply(this.#repo, head.args));
          } else {
            const results = await batch(calls.map((call) => call.args));
            for (const [i, call] of calls.entries()) call.resolve(results[i]);
          }
        } catch (error) {
          if (calls.length > 1) this.sharedFailure ??= error;
          for (const call of calls) call.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Removes and returns the waiting calls that match, in call order. */
  #take(match: (call: Call) => boolean): Call[] {
    const taken = this.#pending.filter(match);
    this.#pending = this.#pending.filter((call) => !match(call));
    return taken;
  }
}

/** How tasks run by {@link runConcurrently} ended: every value, or the first failure. */
export type ConcurrentOutcome<T> =
  | { values: T[] }
  | {
      /** The first task to fail (in time), its error, and whether that error is a batched call's made for several tasks (nobody's alone). */
      failed: { index: number; error: unknown; shared: boolean };
    };

/**
 * Starts every task at once, their repository calls through `queue`, which starts on the next turn of the event
 * loop, so every task's first call is waiting and calls of a batched method go as one. The first task to fail
 * (other than with `GroupAbortedError`) aborts the queue, so the others' later calls fail at once; the outcome
 * is known only once every task has settled, so nothing still runs in the transaction when it rolls back.
 * Tasks are called in order, synchronously.
 */
export async function runConcurrently<T>(
  queue: RepoCallQueue,
  tasks: readonly (() => Promise<T>)[],
): Promise<ConcurrentOutcome<T>> {
  let failed: { index: number; error: unknown; shared: boolean } | undefined;
  const runs = tasks.map((task, index) =>
    task().catch((error: unknown) => {
      if (failed === undefined && !(error instanceof GroupAbortedError)) {
        failed = { index, error, shared: false };
        queue.abort(`task ${index} failed`);
      }
      throw error;
    }),
  );
  setImmediate(() => queue.start());
  const settled = await Promise.allSettled(runs);
  if (failed !== undefined) {
    failed.shared = queue.sharedFailure !== undefined && failed.error === queue.sharedFailure;
    return { failed };
  }
  return { values: settled.map((outcome) => (outcome as PromiseFulfilledResult<T>).value) };
}
