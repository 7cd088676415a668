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
  attempts: number;
}

/** The relay's view of a store's outbox. Safe to use from several relay replicas at once. */
export interface OutboxPort {
  /**
   * Leases up to `limit` unpublished rows, oldest first, for `leaseMs`; rows leased by another relay
   * (lease not yet expired) are skipped. A relay that crashes leaves its lease to expire, then the rows are claimed again.
   * Per-key order holds across relays: a row is not handed out while an earlier unpublished row of the same key
   * is leased, so one order's events are never published out of order by two relays.
   */
  claim(limit: number, leaseMs: number): Promise<OutboxRecord[]>;
  /** Marks rows as published. */
  markPublished(ids: readonly bigint[]): Promise<void>;
  /** Ends the lease of rows that could not be published so they are retried soon. */
  release(ids: readonly bigint[]): Promise<void>;
  /** Number of rows not yet published (for readiness, metrics and tests). */
  pendingCount(): Promise<number>;
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
