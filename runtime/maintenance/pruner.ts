/**
 * The background job that keeps a service's messaging tables from growing without bound: every round it asks
 * each store's `maintenance` port to delete at most `limit` rows per table of what is past its retention
 * window (published outbox rows, inbox rows past the dedupe window, old consumer attempts, and whatever a
 * service adds, e.g. expired idempotency keys). Transport-free; `runtime/host.ts` starts one per process.
 * Design notes: `runtime/outbox/ARCHITECTURE.md` ("Pruning").
 * @module
 */
import type { Logger } from 'pino';
import type { RetentionWindows, TransactionalStore } from '../store.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * Default windows. Inbox 7 days: the dedupe window must outlast the longest redelivery, and Kafka keeps a
 * topic's messages 7 days by default (`log.retention.hours` = 168), as it keeps a group's committed offsets
 * (`offsets.retention.minutes`); a redelivery after the inbox row is gone would take effect twice. Attempts
 * 7 days: they matter only while the event can still come back. Published outbox rows 1 day: they are not
 * needed once published, only handy for looking into what was sent.
 */
export const DEFAULT_RETENTION: RetentionWindows = { outboxMs: DAY, inboxMs: 7 * DAY, attemptsMs: 7 * DAY };
/** Rows deleted per table per round (`PRUNE_BATCH_SIZE`). */
export const DEFAULT_PRUNE_LIMIT = 1_000;
/** Pause after a round that was not full (`PRUNE_INTERVAL_MS`). */
export const DEFAULT_PRUNE_INTERVAL_MS = MINUTE;

export interface PrunerOptions {
  /** The stores to prune; those without a `maintenance` port are skipped. */
  stores: readonly TransactionalStore<unknown>[];
  windows?: Partial<RetentionWindows>;
  /** Most rows deleted per table per round. Default {@link DEFAULT_PRUNE_LIMIT}. */
  limit?: number;
  /** Pause between rounds, unless the last round was full (then the next runs at once). Default 60 s. */
  intervalMs?: number;
  /** The time windows count back from. Default `() => new Date()`. */
  clock?: () => Date;
  logger: Logger;
}

/** What one round deleted: rows per task, per store (service). */
export type PruneReport = Record<string, Record<string, number>>;

/** A running pruner. */
export interface Pruner {
  /** Runs one round now (after the one in flight, if any) and resolves with what it deleted. */
  runOnce(): Promise<PruneReport>;
  /** Stops the schedule and waits for the round in flight. */
  stop(): Promise<void>;
}

/**
 * Starts pruning `stores`; the first round runs at once, then one every `intervalMs`, or at once again while
 * a round deleted `limit` rows from some table (a backlog is worked off in bounded steps, each a short
 * statement, with nothing between them but the event loop).
 * @example
 * const pruner = startPruner({ stores: Object.values(env.stores), clock: env.clock, logger });
 * await pruner.stop();
 */
export function startPruner(options: PrunerOptions): Pruner {
  const windows: RetentionWindows = { ...DEFAULT_RETENTION, ...options.windows };
  const limit = options.limit ?? DEFAULT_PRUNE_LIMIT;
  const intervalMs = options.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
  const clock = options.clock ?? (() => new Date());
  const log = options.logger.child({ component: 'pruner' });
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`pruner: limit must be ≥ 1, got ${limit}`);
  for (const [name, ms] of Object.entries(windows))
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`pruner: window ${name} must be ≥ 0 ms, got ${ms}`);
  const stores = options.stores.filter((store) => store.maintenance !== undefined);

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<{ report: PruneReport; full: boolean }> | null = null;

  async function round(): Promise<{ report: PruneReport; full: boolean }> {
    const report: PruneReport = {};
    let full = false;
    let failure: unknown;
    for (const store of stores) {
      try {
        const deleted = await store.maintenance!.prune({ now: clock(), limit, windows });
        report[store.service] = deleted;
        if (Object.values(deleted).some((n) => n >= limit)) full = true;
      } catch (error) {
        failure ??= error;
        log.warn({ err: error, service: store.service }, 'pruning failed; retrying next round');
      }
    }
    const total = Object.values(report).reduce(
      (sum, tasks) => sum + Object.values(tasks).reduce((a, b) => a + b, 0),
      0,
    );
    if (total > 0) log.info({ deleted: report, full }, 'pruned');
    else log.debug('nothing to prune');
    // A failed store is retried after the interval, not at once, even when another store's round was full.
    return { report, full: full && failure === undefined };
  }

  function run(): Promise<{ report: PruneReport; full: boolean }> {
    clearTimeout(timer);
    const current = round().finally(() => {
      inFlight = null;
    });
    inFlight = current;
    current.then(
      ({ full }) => schedule(full ? 0 : intervalMs),
      () => schedule(intervalMs),
    );
    return current;
  }

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    if (stopped || inFlight !== null) return;
    timer = setTimeout(() => void run(), delayMs);
    timer.unref();
  }

  if (stores.length > 0) void run();

  return {
    async runOnce() {
      while (inFlight !== null) await inFlight.catch(() => undefined);
      return (await run()).report;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      while (inFlight !== null) await inFlight.catch(() => undefined);
    },
  };
}
