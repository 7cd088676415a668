/**
 * The outbox relay: publishes rows a transaction wrote to the outbox, then marks them published.
 * Transport-free: it is handed a `publish` function (see `runtime/kafka/publisher.ts`). Design notes in
 * `ARCHITECTURE.md` beside this file.
 * @module
 */
import type { Logger } from 'pino';
import type { NewOutboxRecord, OutboxPort, OutboxRecord } from '../store.ts';

/** How to run a relay over one store's outbox. */
export interface OutboxRelayOptions {
  outbox: OutboxPort;
  /** Publishes a batch in order; resolves once the broker has acknowledged all of it. */
  publish: (records: readonly NewOutboxRecord[]) => Promise<void>;
  /** Poll interval: picks up rows left by a crash or whose lease expired. Default 1000. */
  pollMs?: number;
  /** Rows per claim (= per publish request). Default 100. */
  batchSize?: number;
  /** How long a claim is ours; must exceed a publish round trip. Default 30000. */
  leaseMs?: number;
  /** Upper bound of the back-off after a failed cycle. Default 10000. */
  maxBackoffMs?: number;
  logger: Logger;
}

/** A running relay. */
export interface OutboxRelay {
  /** Runs a cycle now (or right after the one in flight). Call it after a transaction that wrote outbox rows commits. */
  nudge(): void;
  /**
   * Publishes what is pending now: waits for the cycle in flight, then runs one that claims until a claim
   * comes back short (rows leased by another relay are left to it). Rejects with the publish error when a publish fails (the rows are released).
   */
  drain(): Promise<void>;
  /** Stops polling and waits for the cycle in flight, which ends after its current batch. */
  stop(): Promise<void>;
}

/**
 * Starts a relay; its first cycle runs at once.
 * @example
 * const relay = startOutboxRelay({ outbox: store.outbox, publish: kafkaPublisher(producer), logger });
 * env.onCommitted = () => relay.nudge();
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { outbox, publish } = options;
  const pollMs = options.pollMs ?? 1_000;
  const batchSize = options.batchSize ?? 100;
  const leaseMs = options.leaseMs ?? 30_000;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const log = options.logger.child({ component: 'outbox-relay' });

  let inFlight: Promise<number> | null = null;
  let rerun = false;
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** Claims and publishes batches until a claim is short. Returns the number of rows published. */
  async function cycle(): Promise<number> {
    let published = 0;
    while (!stopped) {
      const rows = await outbox.claim(batchSize, leaseMs);
      if (rows.length === 0) break;
      await publishBatch(rows);
      published += rows.length;
      if (rows.length < batchSize) break;
    }
    return published;
  }

  async function publishBatch(rows: readonly OutboxRecord[]): Promise<void> {
    const ids = rows.map((row) => row.id);
    try {
      await publish(rows);
    } catch (error) {
      // Give the rows back at once; if even that fails their lease expires and a later claim takes them.
      await outbox.release(ids).catch((releaseError: unknown) => {
        log.error({ err: releaseError }, 'outbox release failed; rows wait for lease expiry');
      });
      throw error;
    }
    // If this fails the rows are published but still leased: they are published again after the lease
    // expires (at-least-once; consumers dedupe on the event id).
    await outbox.markPublished(ids);
    log.debug(
      { count: rows.length, firstId: String(ids[0]), lastId: String(ids.at(-1)) },
      'outbox rows published',
    );
  }

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(kick, delayMs);
    timer.unref();
  }

  /** Single flight: one cycle at a time; a request during a cycle becomes exactly one more cycle. */
  function runCycle(): Promise<number> {
    clearTimeout(timer);
    const current = cycle().then(
      (published) => {
        settle(true);
        return published;
      },
      (error: unknown) => {
        settle(false, error);
        throw error;
      },
    );
    inFlight = current;
    return current;
  }

  /** Runs synchronously when a cycle settles, before anyone awaiting it resumes. */
  function settle(ok: boolean, error?: unknown): void {
    inFlight = null;
    if (ok) {
      failures = 0;
    } else {
      failures += 1;
      log.warn({ err: error, failures }, 'outbox relay cycle failed; backing off');
    }
    if (stopped) return;
    if (failures > 0) {
      rerun = false;
      schedule(backoffMs(failures, pollMs, maxBackoffMs));
    } else if (rerun) {
      rerun = false;
      kick();
    } else {
      schedule(pollMs);
    }
  }

  function kick(): void {
    if (stopped) return;
    if (inFlight !== null) {
      rerun = true;
      return;
    }
    runCycle().catch(() => {}); // logged in runCycle
  }

  kick();

  return {
    nudge() {
      // While backing off after a failure the timer decides; a burst of commits must not hammer a dead broker.
      if (failures === 0) kick();
    },
    async drain() {
      while (inFlight !== null) await inFlight.catch(() => 0);
      if (stopped) return;
      await runCycle();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      while (inFlight !== null) await inFlight.catch(() => 0);
    },
  };
}

/** Exponential back-off with jitter: base·2^(n-1), capped, times a random factor in [0.5, 1). */
export function backoffMs(
  failures: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, Math.max(1, baseMs) * 2 ** Math.min(failures - 1, 30));
  return Math.round(exp * (0.5 + random() / 2));
}
