/**
 * Group commit: concurrent invocations writing through one store share one transaction and one commit.
 *
 * One group of a store is in flight at a time (`maxInFlight`). A request that finds none starts a group on the
 * next turn of the event loop (no added latency at low load), which every request read in this turn joins;
 * requests arriving meanwhile queue and go together as the next group, at most
 * `maxSize` of them, in arrival order. Each member's body runs in turn inside the group's transaction (or, when
 * every member's function says `groupCommit: 'concurrent'`, all together, their repository calls queued and
 * batched: runtime/repo-call-queue.ts); the outbox rows of the whole group are written in one statement at the
 * end, member order kept; every member is answered only after the commit that holds its rows. (GET requests and requests carrying an `Idempotency-Key`
 * do not come here: see `groupable` in invoke.ts.)
 *
 * **A failing member does not fail the others.** When a body throws, the group is rolled back; the others run
 * again as a group without it, then the failing one runs alone, so its answer is what it would have been alone
 * (its own 409 or 422; or a success, when it only failed because of a member before it). Exceptions: the
 * database being unavailable (`DependencyUnavailableError`, deadlocks and serialization failures included) is
 * every member's answer, the 503 each would have got alone, without a storm of retries against a database that
 * is down; a timed-out member gets its timeout (504) and is not run again. A failure of the transaction itself
 * (BEGIN, outbox, COMMIT) that is not an outage: each member runs alone.
 *
 * **Why a redo and not a SAVEPOINT per member.** A savepoint (drizzle's nested `tx.transaction()`) would let a
 * failing member roll back alone, but adds two statements (SAVEPOINT, RELEASE) to every member, where
 * create-order's own work is one (its insert; the outbox insert is shared): measured on 2,000 such inserts in
 * one transaction, a member cost about twice as much with them (PGlite 227 → 452 µs CPU; PostgreSQL 93 → 175 µs
 * wall, a round trip each; 2-core VM at load 14). That is paid on every request to save work in the rare case
 * (a 409 is a client's mistake); the redo costs nothing until a member fails, then one or two transactions.
 * @module
 */
import { DependencyUnavailableError, HandlerTimeoutError } from './errors.ts';
import { RepoCallQueue, runConcurrently } from './repo-call-queue.ts';
import type { NewOutboxRecord, StoreTransaction } from './store.ts';

/** Most members of one group, unless configured otherwise. */
export const DEFAULT_GROUP_COMMIT_MAX_SIZE = 64;

export interface GroupCommitOptions {
  /** Most members of one group (default {@link DEFAULT_GROUP_COMMIT_MAX_SIZE}); 1 runs every request alone. */
  maxSize?: number;
  /**
   * Most groups of the store in flight at once (default 1). A store with a connection pool (PostgreSQL) can
   * run a few side by side; PGlite runs one transaction at a time, so more would only make smaller groups.
   */
  maxInFlight?: number;
  /**
   * Longest a member's body may run (default `DEFAULT_HANDLER_TIMEOUT_MS`, 15 s): a hung handler fails with
   * `HandlerTimeoutError` (504) instead of holding its group, hence every request of the store, forever.
   */
  timeoutMs?: number;
}

/** What a member's body produced: its answer and the outbox rows of the events it emitted. */
export interface MemberResult<T> {
  value: T;
  records: NewOutboxRecord[];
}

/** One invocation, as handed to the committer. */
export interface GroupMember<T> {
  /**
   * Runs the member's body in the group's transaction (bounded by its own timeout). Its `tx` is revoked when
   * the transaction ends: a body still running after its timeout cannot write into a later transaction.
   */
  run(tx: StoreTransaction<unknown>): Promise<MemberResult<T>>;
  /** Told the size of each group it runs in (a span attribute). */
  joined?(size: number): void;
  /**
   * The member may run concurrently with the others of its group (`groupCommit: 'concurrent'`): when every
   * member of a group may, their bodies run together, their repository calls one at a time through a
   * {@link RepoCallQueue}, which batches the calls of a batched method. Otherwise members run one after another.
   */
  concurrent?: boolean;
}

/** How the committer opens a transaction of its store (metrics, unavailability guard). */
export type Transact = <T>(work: (tx: StoreTransaction<unknown>) => Promise<T>) => Promise<T>;

interface Queued extends GroupMember<unknown> {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A member's body threw; `index` is the member. */
class MemberFailure {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {}
}

/** The group commit of one store. */
export class GroupCommitter {
  readonly #transact: Transact;
  readonly #onCommitted: () => void;
  readonly #maxSize: number;
  readonly #maxInFlight: number;
  #queue: Queued[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(transact: Transact, onCommitted: () => void, options: GroupCommitOptions = {}) {
    this.#transact = transact;
    this.#onCommitted = onCommitted;
    this.#maxSize = Math.max(1, options.maxSize ?? DEFAULT_GROUP_COMMIT_MAX_SIZE);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  }

  /**
   * Runs `member` in the next group and resolves its value once that group has committed.
   * @throws what the member's body threw when run alone; what the transaction threw when it is every member's.
   */
  submit<T>(member: GroupMember<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        ...(member as GroupMember<unknown>),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.#schedule();
    });
  }

  /**
   * Starts a lane on the next turn of the event loop, once: every request read in this turn joins its first
   * group. (Run at once, the first would start its transaction alone; on PGlite, whose statements run on this
   * thread, the others are then only read after it, and groups stayed at 1–2 members under load.)
   */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) void this.#drain();
    });
  }

  /** One lane: runs groups while members are queued. At most `maxInFlight` lanes run at once. */
  async #drain(): Promise<void> {
    this.#inFlight++;
    try {
      while (this.#queue.length > 0) await this.#settle(this.#takeGroup());
    } finally {
      this.#inFlight--;
    }
  }

  /** The next group: the oldest queued members, up to `maxSize`. */
  #takeGroup(): Queued[] {
    return this.#queue.splice(0, this.#maxSize);
  }

  /** Runs `group` until each member has its answer; never throws. */
  async #settle(group: readonly Queued[]): Promise<void> {
    if (group.length === 0) return;
    let failure: MemberFailure | undefined;
    try {
      await this.#commit(group);
      return;
    } catch (error) {
      failure = error instanceof MemberFailure ? error : undefined;
      const cause = failure?.error ?? error;
      if (group.length === 1 || cause instanceof DependencyUnavailableError) {
        for (const member of group) member.reject(cause);
        return;
      }
      if (failure === undefined) {
        for (const member of group) await this.#settle([member]);
        return;
      }
    }
    const culprit = group[failure.index]!;
    await this.#settle(group.filter((member) => member !== culprit));
    if (failure.error instanceof HandlerTimeoutError) culprit.reject(failure.error);
    else await this.#settle([culprit]);
  }

  /** One transaction for `group`; resolves every member after its commit. */
  async #commit(group: readonly Queued[]): Promise<void> {
    for (const member of group) member.joined?.(group.length);
    const revocations: Array<() => void> = [];
    let emitted = 0;
    const concurrent = group.length > 1 && group.every((member) => member.concurrent === true);
    const values = await this.#transact(async (tx) => {
      try {
        const ran = concurrent
          ? await runTogether(group, tx, revocations)
          : await runInTurn(group, tx, revocations);
        const records = ran.flatMap((result) => result.records);
        if (records.length > 0) await tx.appendOutbox(records);
        emitted = records.length;
        return ran.map((result) => result.value);
      } finally {
        for (const revoke of revocations) revoke();
      }
    });
    for (const [index, member] of group.entries()) member.resolve(values[index]);
    if (emitted > 0) this.#onCommitted();
  }
}

/** Members one after another: each sees the writes of those before it; the first to throw fails the group. */
async function runInTurn(
  group: readonly Queued[],
  tx: StoreTransaction<unknown>,
  revocations: Array<() => void>,
): Promise<MemberResult<unknown>[]> {
  const ran: MemberResult<unknown>[] = [];
  for (const [index, member] of group.entries()) {
    const { proxy, revoke } = revocable(tx);
    revocations.push(revoke);
    try {
      ran.push(await member.run(proxy));
    } catch (error) {
      throw new MemberFailure(index, error);
    }
  }
  return ran;
}

/**
 * Members together, their repository calls queued (see {@link RepoCallQueue}); started on the next turn of the
 * event loop, so that every member's first call is waiting and batched calls go as one. The first member to
 * throw fails the group (later calls of the others fail at once); a batched call failing for several members
 * is nobody's alone: thrown as it is, so each member is then run alone.
 */
async function runTogether(
  group: readonly Queued[],
  tx: StoreTransaction<unknown>,
  revocations: Array<() => void>,
): Promise<MemberResult<unknown>[]> {
  const queue = new RepoCallQueue(tx.repo as object);
  const shared = { ...tx, repo: queue.repo } as StoreTransaction<unknown>;
  const outcome = await runConcurrently(
    queue,
    group.map((member) => () => {
      const { proxy, revoke } = revocable(shared);
      revocations.push(revoke);
      return member.run(proxy);
    }),
  );
  if ('values' in outcome) return outcome.values;
  const { index, error, shared: nobodys } = outcome.failed;
  if (nobodys) throw error;
  throw new MemberFailure(index, error);
}

/**
 * `tx` and its repository behind revocable proxies: any use after `revoke()` throws a TypeError. Like `guarded`,
 * it expects plain objects of functions (a class with private fields would not work behind a proxy).
 */
function revocable(tx: StoreTransaction<unknown>): { proxy: StoreTransaction<unknown>; revoke: () => void } {
  const outer = Proxy.revocable(tx, {});
  const repo = Proxy.revocable(tx.repo as object, {});
  const proxy = new Proxy(outer.proxy, {
    get: (target, property, receiver) =>
      property === 'repo' ? repo.proxy : Reflect.get(target, property, receiver),
  });
  return {
    proxy,
    revoke: () => {
      outer.revoke();
      repo.revoke();
    },
  };
}
