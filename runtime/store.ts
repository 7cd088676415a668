/**
 * Persistence ports the runtime needs from every service store, whatever the dialect
 * (PGlite / PostgreSQL today, SQL Server next): one transaction per invocation, an outbox
 * written in that transaction, and an inbox that makes consumers idempotent.
 * @module
 */

/** An outbox row as written: one Kafka message, already encoded. */
export interface NewOutboxRecord {
  eventId: string;
  topic: string;
  key: string;
  /** The encoded message value (JSON envelope). */
  value: string;
  headers: Record<string, string>;
}

/** An outbox row as claimed by a relay. `id` is monotonic per store: publishing in `id` order keeps each key's events in order. */
export interface OutboxRecord extends NewOutboxRecord {
  id: bigint;
  createdAt: Date;
  /** Claims so far (a crashed relay's claim counts too). */
  attempts: number;
  /** Failed publishes charged to this row so far (see {@link OutboxPort.recordFailures}). */
  failures: number;
}

/** A row the relay gave up on, as operators see it. */
export interface ParkedOutboxRecord extends OutboxRecord {
  parkedAt: Date;
  /** The last publish error charged to the row. */
  lastError: string | null;
}

/** One failed publish, charged to one row. */
export interface OutboxFailure {
  id: bigint;
  /** What went wrong, e.g. `MESSAGE_TOO_LARGE: …`; kept as the row's `last_error`. */
  error: string;
}

/** How {@link OutboxPort.recordFailures} treats the rows it charges. */
export interface RecordFailuresOptions {
  /** The relay holding the lease; only rows it holds are charged. */
  owner?: string;
  /** The row is not claimable again for this long (its own back-off); the later rows of its key wait too. */
  retryInMs: number;
  /** A row reaching this many failures is parked instead. */
  parkAfter: number;
}

/**
 * A relay taking the rows its store's transactions commit straight from the store (see {@link OutboxPort.attach}),
 * instead of claiming them from the table.
 */
export interface OutboxHandOver {
  /** The relay's lease owner id: rows are written already leased to it. */
  readonly owner: string;
  /** How long a row written leased stays ours (the relay's `leaseMs`). */
  readonly leaseMs: number;
  /**
   * Called synchronously after each commit that wrote outbox rows: `rows` are the rows written leased to
   * {@link owner}, in id order, to publish now; `unleased` counts the rows written without a lease because an
   * earlier unpublished row of their key existed (the relay claims those, behind that row, in order).
   */
  committed(rows: readonly OutboxRecord[], unleased: number): void;
}

/** Which parked rows {@link OutboxPort.republish} puts back. */
export type RepublishTarget = { ids: readonly bigint[] } | { all: true };

/**
 * The relay's view of a store's outbox. Safe to use from several relay replicas at once.
 *
 * **Owners.** Each relay passes its own owner id (a random UUID per relay instance): `claim` records it with the
 * lease, and `markPublished`, `release` and `recordFailures` only touch rows whose lease that owner holds, so a
 * relay whose lease expired and was taken over cannot end or overwrite the new holder's lease. A caller that
 * passes no owner (tests, tools) is one more owner, "none", and holds only the leases it claimed without one.
 */
export interface OutboxPort {
  /**
   * Leases up to `limit` claimable rows, oldest first, for `leaseMs`, to `owner`. A row is claimable when it is
   * unpublished, not parked and not leased (or its lease expired). A relay that crashes leaves its lease to
   * expire, then the rows are claimed again. Per-key order holds across relays: a row is not handed out while
   * an earlier unpublished row of the same key is leased (by anyone, or waiting out a failure's retry delay) or
   * parked, so one order's events are never published out of order.
   */
  claim(limit: number, leaseMs: number, owner?: string): Promise<OutboxRecord[]>;
  /**
   * Optional: direct hand-over. While `relay` is attached, this store's transactions write their outbox rows
   * already leased to `relay.owner` for `relay.leaseMs` — unless an earlier unpublished row of the same key
   * exists, then unleased, left to `claim` (per-key order) — and after each commit hand `relay.committed` the
   * leased rows, so the relay publishes them without a claim. The table stays the crash-recovery path: a row
   * the relay never publishes is claimed by anyone once its lease expires. Returns the detach function, or
   * undefined when another relay is attached already (this one then claims as usual).
   */
  attach?(relay: OutboxHandOver): (() => void) | undefined;
  /**
   * Ends rows `owner` holds as published (its lease may have expired, as long as nobody re-claimed the row):
   * the stores delete them, since nothing reads a published row. Returns how many it ended: fewer than asked
   * means another relay took rows over and publishes them again (a duplicate, never a loss).
   */
  markPublished(ids: readonly bigint[], owner?: string): Promise<number>;
  /** Ends `owner`'s lease of rows that could not be published so they are retried soon. Returns how many. */
  release(ids: readonly bigint[], owner?: string): Promise<number>;
  /**
   * Charges one failed publish to each row (held by `options.owner`): counts it, keeps the error, and holds the
   * row back for `retryInMs` — or parks it when it reaches `parkAfter` failures. Returns the ids parked now.
   * Only failures attributable to the row belong here, never an outage of the broker.
   */
  recordFailures(failures: readonly OutboxFailure[], options: RecordFailuresOptions): Promise<bigint[]>;
  /** Number of rows not yet published, parked ones included (for readiness, metrics and tests). */
  pendingCount(): Promise<number>;
  /** Number of parked rows. */
  parkedCount(): Promise<number>;
  /** Optional (metrics): when the oldest unpublished row was written, parked ones included; null when none. */
  oldestPendingAt?(): Promise<Date | null>;
  /** Parked rows in id order, `limit` (default 100) at a time after `afterId`. */
  listParked(options?: { limit?: number; afterId?: bigint }): Promise<ParkedOutboxRecord[]>;
  /** Unparks rows (by id, or all) with their failures reset, so the relay publishes them next. Returns how many. */
  republish(target: RepublishTarget): Promise<number>;
}

/** How long what is done stays: rows older than their window are pruned. */
export interface RetentionWindows {
  /**
   * Published outbox rows, by `published_at`. The stores delete a row when it is published, so this only
   * concerns rows an older version marked published. Unpublished and parked rows are never pruned.
   */
  outboxMs: number;
  /**
   * Inbox rows, by `handled_at`: the dedupe window. It must outlast the longest redelivery (Kafka's retention),
   * or a redelivered event would take effect twice.
   */
  inboxMs: number;
  /** Consumer attempt records, by their last attempt. */
  attemptsMs: number;
}

/** One pruning round of one store. */
export interface PruneOptions {
  /** The time the windows count back from (the injected clock). */
  now: Date;
  /** Most rows deleted per table in this round. */
  limit: number;
  windows: RetentionWindows;
}

/** One table's (or other thing's) pruning, e.g. a service's expired idempotency keys. */
export interface PruneTask {
  /** Names the task in the round's report, e.g. `idempotency_keys`. */
  readonly name: string;
  /** Deletes at most `options.limit` rows; returns how many. */
  prune(options: PruneOptions): Promise<number>;
}

/** Housekeeping a store offers the maintenance job (`runtime/maintenance/`). */
export interface MaintenancePort {
  /** Runs every prune task once; returns rows deleted per task name (`outbox`, `inbox`, `consumer_attempts`, …). */
  prune(options: PruneOptions): Promise<Record<string, number>>;
}

/**
 * Where a repository lists the methods that can serve several waiting callers with one statement, for the
 * members of a group commit that run concurrently (runtime/repo-call-queue.ts): each entry takes the argument
 * lists of the waiting calls, in call order, and resolves what each call would have returned alone. The
 * result must be what those calls one after another would have given (e.g. for a key inserted twice, the
 * first call creates the row and the second finds it).
 * @example
 * return { insertOrder, findOrder, [BATCHED]: { insertOrder: (calls) => insertOrders(calls.map(([o]) => o)) } };
 */
export const BATCHED = Symbol.for('orderflow.repo.batched');

/** See {@link BATCHED}. */
export type BatchedMethods = Readonly<
  Record<string, (calls: readonly (readonly unknown[])[]) => Promise<readonly unknown[]>>
>;

/** A repository that may list batched methods (see {@link BATCHED}). */
export interface Batchable {
  readonly [BATCHED]?: BatchedMethods;
}

/** What a transaction offers the runtime, next to the service's own repository. */
export interface StoreTransaction<Repo> {
  /** The service repository, bound to this transaction. */
  repo: Repo;
  /** Writes outbox rows in this transaction. */
  appendOutbox(records: readonly NewOutboxRecord[]): Promise<void>;
  /**
   * Records that `consumer` handled `eventId`, in this transaction. Returns false when it was already
   * recorded: the event is a duplicate and the handler must not run again.
   */
  recordInbox(consumer: string, eventId: string): Promise<boolean>;
  /**
   * Optional: `recordInbox` for several events at once (one statement), for a consumer's batch. Returns the
   * ids that were not recorded before (each id once, however often it is listed). Stores without it get one
   * `recordInbox` call per event.
   */
  recordInboxMany?(consumer: string, eventIds: readonly string[]): Promise<Set<string>>;
}

/** What a store has recorded of one event's attempts by one consumer group. */
export interface AttemptRecord {
  /** Attempts so far that counted against the message (its handler ran, or started and never finished). */
  attempts: number;
  /** Why the last failed attempt failed, when one was recorded. */
  lastError: string | null;
}

/**
 * Durable attempt counts per (consumer group, event id), written in their own short autocommit statements,
 * outside the handler's transaction, so that a rollback, a rebalance, a restart or a crash does not reset them.
 * Why and when the consumer writes them: runtime/kafka/ARCHITECTURE.md ("Attempts").
 */
export interface AttemptsPort {
  /**
   * Adds `delta` to each event's count (never below 0; a new row starts at 0) and, when given, records `error`
   * as the last error; one statement for all ids. `delta` 1: an attempt starts (or failed without having been
   * counted); 0: only the error; -1: an attempt that failed for the infrastructure's reasons is taken back.
   * Resolves the records after the change, by (canonical) event id.
   */
  record(
    consumer: string,
    eventIds: readonly string[],
    change: { delta: number; error?: string },
  ): Promise<Map<string, AttemptRecord>>;
  /** True when `consumer`'s inbox holds `eventId` (it was handled): asked before dead-lettering a redelivery. */
  handled(consumer: string, eventId: string): Promise<boolean>;
}

/** One service's database: its repository, transactions, outbox and inbox. */
export interface TransactionalStore<Repo> {
  /** Service name, e.g. `orders`, `payments`. */
  readonly service: string;
  /** Runs `fn` in one database transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: StoreTransaction<Repo>) => Promise<T>): Promise<T>;
  /** The service repository outside any transaction (autocommit reads). */
  readonly repo: Repo;
  readonly outbox: OutboxPort;
  /** Optional: pruning of what no longer matters (published outbox rows, old inbox rows, …). */
  readonly maintenance?: MaintenancePort;
  /** Cheap round trip to the database (readiness). */
  ping(): Promise<void>;
  /**
   * Durable attempt counts for the event consumers of this service. Optional: without it a consumer counts
   * attempts in memory only (lost on restart; test stores).
   */
  readonly attempts?: AttemptsPort;
  /**
   * True when `error` (thrown by this store's driver, at any depth of `cause`) means the database is
   * unavailable — unreachable, timing out, pool exhausted, shutting down, a deadlock or serialization failure —
   * rather than that the request or message is wrong. The runtime turns it into a `DependencyUnavailableError`.
   */
  isUnavailable?(error: unknown): boolean;
  /** Optional (metrics): the connection pool now; absent or undefined where there is none (PGlite). */
  poolState?(): PoolState | undefined;
}

/** A connection pool as its driver reports it. */
export interface PoolState {
  max: number;
  used: number;
  idle: number;
  /** Requests waiting for a connection. */
  pending: number;
}

/** A typed reference to a service store, resolved by the runtime at start-up. */
export interface StoreToken<Repo> {
  readonly service: string;
  /** Phantom field carrying the repository type; never set at run time. */
  readonly __repo?: Repo;
}

/**
 * Declares a service store a function can ask for.
 * @example export const ordersStore = storeToken<OrdersRepo>('orders');
 */
export function storeToken<Repo>(service: string): StoreToken<Repo> {
  return { service };
}
