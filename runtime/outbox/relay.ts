/**
 * The outbox relay: publishes rows a transaction wrote to the outbox, then marks them published.
 * Transport-free: it is handed a `publish` function (see `runtime/kafka/publisher.ts`). Design notes in
 * `ARCHITECTURE.md` beside this file.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NewOutboxRecord, OutboxFailure, OutboxPort, OutboxRecord } from '../store.ts';
import {
  extractContext,
  failed,
  injectContext,
  SpanKind,
  startChild,
  type Tracer,
} from '../tracing/tracing.ts';
import { PublishRejectedError } from './errors.ts';

/** How to run a relay over one store's outbox. */
export interface OutboxRelayOptions {
  outbox: OutboxPort;
  /**
   * Publishes a batch in order; resolves once the broker has acknowledged all of it. Throws a
   * `PublishRejectedError` when the records are at fault (charged to them), anything else for an outage.
   */
  publish: (records: readonly NewOutboxRecord[]) => Promise<void>;
  /** Poll interval: picks up rows left by a crash or whose lease expired. Default 1000. */
  pollMs?: number;
  /** Rows per claim (= per publish request). Default 100. */
  batchSize?: number;
  /** How long a claim is ours; must exceed a publish round trip. Default 30000. */
  leaseMs?: number;
  /** Upper bound of the back-off after a failed cycle, and of a failing row's retry delay. Default 10000. */
  maxBackoffMs?: number;
  /** Failed publishes charged to one row before it is parked. Default {@link DEFAULT_MAX_FAILURES}. */
  maxFailures?: number;
  /** This relay's lease owner id. Default: a random UUID, so every relay instance is its own owner. */
  owner?: string;
  logger: Logger;
  /** Told what the relay did (metrics); one call per batch or failure. */
  observer?: OutboxRelayObserver;
  /** Traces each publish as a child of the row's `traceparent`, which it then replaces with its own. */
  tracer?: Tracer;
}

/** What a relay reports as it goes: rows acknowledged by the broker, cycles that failed, rows charged. */
export interface OutboxRelayObserver {
  published(rows: readonly OutboxRecord[]): void;
  failed(kind: 'outage' | 'rejected', count: number): void;
}

/** Failures charged to one row before it is parked (`OUTBOX_MAX_FAILURES`). */
export const DEFAULT_MAX_FAILURES = 10;

/** Batches of handed-over rows a relay holds in memory at most; a commit beyond that is left to the claim. */
const MAX_HANDED_BATCHES = 10;

/** Longest `last_error` kept per row. */
const MAX_ERROR_LENGTH = 2_000;

/** A running relay. */
export interface OutboxRelay {
  /**
   * Runs a cycle now (or right after the one in flight). Call it after a transaction that wrote outbox rows
   * commits. A relay attached to its store (the hand-over) has those rows already, and ignores it.
   */
  nudge(): void;
  /**
   * Publishes what is pending now: waits for the cycle in flight, then runs one that claims until a claim
   * comes back short (rows leased by another relay, waiting out a failure or parked are left). Rejects with the
   * publish error when the broker is unreachable (the rows are released); rows it rejects are charged instead.
   */
  drain(): Promise<void>;
  /** Stops polling and waits for the cycle in flight, which ends after its current batch. */
  stop(): Promise<void>;
}

/**
 * Starts a relay; its first cycle runs at once.
 * @example
 * const relay = startOutboxRelay({ outbox: store.outbox, publish: kafkaPublisher(producer), logger });
 * env.onCommitted = () => relay.nudge(); // a no-op when the store hands committed rows over
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { outbox, publish } = options;
  const pollMs = options.pollMs ?? 1_000;
  const batchSize = options.batchSize ?? 100;
  const leaseMs = options.leaseMs ?? 30_000;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
  const owner = options.owner ?? randomUUID();
  if (!Number.isInteger(maxFailures) || maxFailures < 1)
    throw new RangeError(`outbox relay: maxFailures must be a positive integer, got ${maxFailures}`);
  if (owner.length === 0 || owner.length > 64)
    throw new RangeError(`outbox relay: owner must be 1 to 64 characters, got ${owner.length}`);
  const log = options.logger.child({ component: 'outbox-relay', owner });
  const observer = options.observer;

  let inFlight: Promise<number> | null = null;
  let rerun = false;
  /** When the table is polled next: cycles that only publish handed rows do not put the poll off. */
  let nextClaimAt = 0;
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** Rows the store handed over after their commit (leased to us), oldest first, not yet published. */
  const handed: OutboxRecord[] = [];
  /** Rows ever put into `handed`, and ever taken out of it (published, released): positions in its stream. */
  let handedIn = 0;
  let handedOut = 0;
  /**
   * Claims wanted, each once `handedOut` reaches its position (ascending): a claim asked for now runs after the
   * rows handed so far are out, since rows written unleased behind them can only be claimed then. A cycle claims
   * as soon as the first is reached, between two handed batches: commits that keep coming never put it off.
   */
  const claimsAfter: number[] = [0];
  /** Most rows held in `handed`; more are given back to the table. */
  const maxHanded = batchSize * MAX_HANDED_BATCHES;
  /** Keys of rows rejected in this cycle: their later handed rows are released, not published (they wait). */
  const blockedKeys = new Set<string>();
  /** Releases of handed rows made outside a cycle; `stop()` waits for them. */
  const releasing = new Set<Promise<void>>();

  // Direct hand-over: the store writes committed rows leased to us and hands them over, so the happy path needs
  // no claim; `nudge()` then has nothing to do. A store without it (or with another relay attached) is claimed.
  const detach = outbox.attach?.({
    owner,
    leaseMs,
    committed(rows, unleased) {
      if (stopped || failures > 0) {
        // Not publishing now: give the rows back to the table at once (poll or the next relay claims them, in order).
        if (rows.length > 0) track(releaseQuietly(rows.map((row) => row.id)));
        return;
      }
      if (handed.length + rows.length > maxHanded) {
        // Falling behind: the backlog waits in the table, not in memory (and not past its lease); claimed in order,
        // once released.
        track(releaseQuietly(rows.map((row) => row.id)).then(() => kick(true)));
        return;
      }
      handed.push(...rows);
      handedIn += rows.length;
      // Rows written unleased (behind an unpublished row of their key) are claimed once what came before is out.
      kick(unleased > 0);
    },
  });

  /** Takes up to `count` rows off the front of `handed`. */
  function takeHanded(count: number): OutboxRecord[] {
    const taken = handed.splice(0, count);
    handedOut += taken.length;
    return taken;
  }

  /**
   * Whether to claim now: a claim asked for is due once the rows handed before it are out; the poll is due at
   * `nextClaimAt` even while handed rows keep coming (a cycle that ends sets the timer for it otherwise).
   */
  function claimDue(): boolean {
    return (
      (claimsAfter.length > 0 && claimsAfter[0]! <= handedOut) ||
      (handed.length > 0 && Date.now() >= nextClaimAt)
    );
  }

  /**
   * Publishes the handed rows batch by batch and, whenever a claim is due (asked for and the rows handed before
   * it are out, or the poll), claims and publishes batches until a claim is short; ends when neither is left.
   * Returns the number of rows published. On an outage the handed rows still waiting are released too.
   */
  async function cycle(): Promise<number> {
    let published = 0;
    try {
      while (!stopped) {
        if (claimDue()) {
          while (claimsAfter.length > 0 && claimsAfter[0]! <= handedOut) claimsAfter.shift();
          nextClaimAt = Date.now() + pollMs;
          published += await claimBatches();
        } else if (handed.length > 0) {
          const rows = await handedBatch(batchSize);
          if (rows.length > 0) published += await publishBatch(rows);
        } else {
          break;
        }
      }
    } catch (error) {
      if (handed.length > 0) await releaseQuietly(takeHanded(handed.length).map((row) => row.id));
      throw error;
    } finally {
      if (handed.length === 0) blockedKeys.clear();
    }
    if (stopped && handed.length > 0) await releaseQuietly(takeHanded(handed.length).map((row) => row.id));
    return published;
  }

  /**
   * Takes up to `count` handed rows to publish; those of keys rejected in this cycle are released instead (they
   * wait behind the rejected row).
   */
  async function handedBatch(count: number): Promise<OutboxRecord[]> {
    const batch = takeHanded(count);
    const held = batch.filter((row) => blockedKeys.has(row.key));
    if (held.length > 0) await releaseQuietly(held.map((row) => row.id));
    return held.length === 0 ? batch : batch.filter((row) => !blockedKeys.has(row.key));
  }

  /**
   * Claims and publishes batches until a claim comes back short. Handed rows waiting fill each request up to
   * `batchSize`, ahead of the claimed rows: one round trip to the broker, not two. No key is in both (a claim
   * skips rows behind a leased row of their key, and a row written while an earlier one is unpublished is not
   * handed), and where one were, the handed row would be the earlier.
   */
  async function claimBatches(): Promise<number> {
    let published = 0;
    while (!stopped) {
      const claimed = await outbox.claim(batchSize, leaseMs, owner);
      const rows = [...(await handedBatch(batchSize - claimed.length)), ...claimed];
      if (rows.length > 0) published += await publishBatch(rows);
      if (claimed.length < batchSize) break;
    }
    return published;
  }

  function track(work: Promise<void>): void {
    releasing.add(work);
    void work.finally(() => releasing.delete(work));
  }

  /** Publishes one claimed batch; returns how many rows went out. Throws (rows released) on an outage. */
  async function publishBatch(rows: readonly OutboxRecord[]): Promise<number> {
    const ids = rows.map((row) => row.id);
    const traced = options.tracer === undefined ? undefined : publishSpans(options.tracer, rows);
    try {
      await publish(traced?.rows ?? rows);
      for (const span of traced?.spans ?? []) span.end();
    } catch (error) {
      for (const span of traced?.spans ?? []) {
        failed(span, error);
        span.end();
      }
      if (error instanceof PublishRejectedError && rows.length > 1) return isolate(rows);
      if (error instanceof PublishRejectedError) {
        await record([], [{ row: rows[0]!, error }], []);
        return 0;
      }
      // Not the rows' fault: give them back at once (if even that fails their lease expires) and back off.
      await releaseQuietly(ids);
      throw error;
    }
    observer?.published(rows);
    await markPublished(ids);
    log.debug(
      { count: rows.length, firstId: String(ids[0]), lastId: String(ids.at(-1)) },
      'outbox rows published',
    );
    return rows.length;
  }

  /**
   * The batch was rejected: find the culprit(s) by publishing the rows one at a time in order. A row the
   * publisher rejects on its own is charged; the later rows of its key are not sent (they wait behind it, in
   * order); every other row goes out. An outage meanwhile ends the isolation: what went out is marked,
   * what was charged is recorded, the rest is released, and the error is rethrown (the relay backs off).
   */
  async function isolate(rows: readonly OutboxRecord[]): Promise<number> {
    const published: bigint[] = [];
    const rejected: { row: OutboxRecord; error: PublishRejectedError }[] = [];
    const held: bigint[] = [];
    const keysHeld = new Set<string>();
    for (const [i, row] of rows.entries()) {
      if (keysHeld.has(row.key) || stopped) {
        held.push(row.id);
        continue;
      }
      try {
        await publish([row]);
        observer?.published([row]);
        published.push(row.id);
      } catch (error) {
        if (!(error instanceof PublishRejectedError)) {
          held.push(...rows.slice(i).map((r) => r.id));
          await record(published, rejected, held);
          throw error;
        }
        rejected.push({ row, error });
        keysHeld.add(row.key);
      }
    }
    await record(published, rejected, held);
    log.info(
      { batch: rows.length, published: published.length, rejected: rejected.length, held: held.length },
      'outbox batch rejected; rows published one by one',
    );
    return published.length;
  }

  /** Records the outcome of an isolation: published rows marked, rejected rows charged, held rows released. */
  async function record(
    published: readonly bigint[],
    rejected: readonly { row: OutboxRecord; error: PublishRejectedError }[],
    held: readonly bigint[],
  ): Promise<void> {
    if (published.length > 0) await markPublished(published);
    if (rejected.length > 0) {
      observer?.failed('rejected', rejected.length);
      for (const { row } of rejected) blockedKeys.add(row.key);
      // Each row's own back-off grows with its failures; the later rows of its key wait as long.
      const byFailures = new Map<number, typeof rejected>();
      for (const entry of rejected)
        byFailures.set(entry.row.failures, [...(byFailures.get(entry.row.failures) ?? []), entry]);
      const parked: bigint[] = [];
      for (const [failuresSoFar, group] of byFailures) {
        const charged: OutboxFailure[] = group.map(({ row, error }) => ({
          id: row.id,
          error: errorText(error),
        }));
        parked.push(
          ...(await outbox.recordFailures(charged, {
            owner,
            retryInMs: backoffMs(failuresSoFar + 1, pollMs, maxBackoffMs),
            parkAfter: maxFailures,
          })),
        );
      }
      for (const { row, error } of rejected) {
        const fields = {
          id: String(row.id),
          eventId: row.eventId,
          topic: row.topic,
          key: row.key,
          failures: row.failures + 1,
          reason: error.reason,
        };
        if (parked.includes(row.id))
          log.error(
            { ...fields, err: error },
            'outbox row parked: later rows of its key wait until it is republished',
          );
        else log.warn({ ...fields, err: error }, 'outbox row rejected by the broker; retrying it later');
      }
    }
    if (held.length > 0) await releaseQuietly(held);
  }

  async function markPublished(ids: readonly bigint[]): Promise<void> {
    // If this fails the rows are published but still leased: they are published again after the lease
    // expires (at-least-once; consumers dedupe on the event id).
    const marked = await outbox.markPublished(ids, owner);
    if (marked < ids.length)
      log.warn(
        { published: ids.length, marked },
        'outbox lease lost before markPublished: another relay publishes those rows again',
      );
  }

  async function releaseQuietly(ids: readonly bigint[]): Promise<void> {
    await outbox.release(ids, owner).catch((releaseError: unknown) => {
      log.error({ err: releaseError }, 'outbox release failed; rows wait for lease expiry');
    });
  }

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => kick(true), delayMs);
    timer.unref();
  }

  /** Single flight: one cycle at a time; a request during a cycle becomes exactly one more cycle. */
  function runCycle(): Promise<number> {
    clearTimeout(timer);
    if (Date.now() >= nextClaimAt) wantClaim();
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
      // Handed over after the failing batch gave the others back: these go back too (the back-off claims them).
      if (handed.length > 0) track(releaseQuietly(takeHanded(handed.length).map((row) => row.id)));
      observer?.failed('outage', 1);
      log.warn({ err: error, failures }, 'outbox relay cycle failed; backing off');
    }
    if (stopped) return;
    if (failures > 0) {
      rerun = false;
      schedule(backoffMs(failures, pollMs, maxBackoffMs));
    } else if (rerun) {
      rerun = false;
      kick(false);
    } else {
      schedule(Math.max(0, nextClaimAt - Date.now()));
    }
  }

  /** Asks for a claim once the rows handed so far are out. */
  function wantClaim(): void {
    if (claimsAfter.at(-1) !== handedIn) claimsAfter.push(handedIn);
  }

  /**
   * Runs a cycle (claiming from the table, after the rows handed so far, when `claim`), or one more after the
   * one in flight; the cycle in flight takes a claim asked for meanwhile too.
   */
  function kick(claim: boolean): void {
    if (stopped) return;
    if (claim) wantClaim();
    if (inFlight !== null) {
      rerun = true;
      return;
    }
    runCycle().catch(() => {}); // logged in runCycle
  }

  kick(true);

  return {
    nudge() {
      // Handed over: the commit's rows are here already (or, written unleased, asked for a claim themselves).
      if (detach !== undefined) return;
      // While backing off after a failure the timer decides; a burst of commits must not hammer a dead broker.
      if (failures === 0) kick(true);
    },
    async drain() {
      while (inFlight !== null) await inFlight.catch(() => 0);
      if (stopped) return;
      wantClaim();
      await runCycle();
    },
    async stop() {
      stopped = true;
      detach?.();
      clearTimeout(timer);
      while (inFlight !== null) await inFlight.catch(() => 0);
      if (handed.length > 0) await releaseQuietly(takeHanded(handed.length).map((row) => row.id));
      await Promise.all(releasing);
    },
  };
}

/** One producer span per row, child of the row's trace; the message carries the span's `traceparent`. */
function publishSpans(tracer: Tracer, rows: readonly OutboxRecord[]) {
  const spans = [];
  const traced: OutboxRecord[] = [];
  for (const row of rows) {
    const { span, context } = startChild(tracer, `publish ${row.topic}`, {
      kind: SpanKind.PRODUCER,
      parent: extractContext(row.headers),
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': row.topic,
        'messaging.message.id': row.eventId,
        'messaging.kafka.message.key': row.key,
        'orderflow.outbox.id': String(row.id),
      },
    });
    const headers = { ...row.headers };
    injectContext(context, headers);
    spans.push(span);
    traced.push({ ...row, headers });
  }
  return { spans, rows: traced };
}

function errorText(error: PublishRejectedError): string {
  const text = error.message.startsWith(error.reason) ? error.message : `${error.reason}: ${error.message}`;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
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
