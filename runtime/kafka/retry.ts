/**
 * Back-off between attempts of an event handler, and a wait that keeps the consumer's session alive.
 * @module
 */
import type { RetryPolicy } from '../define.ts';
import { RetryLaterError } from '../errors.ts';

/**
 * Delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed with `error`:
 * `initialBackoffMs · 2^(attempt-1)` capped at `maxBackoffMs`, times a jitter factor in [0.5, 1);
 * a `RetryLaterError` with `delayMs` is never retried earlier than it asked.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  error?: unknown,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.round(exponential * (0.5 + random() / 2));
  const asked = error instanceof RetryLaterError ? (error.delayMs ?? 0) : 0;
  return Math.max(jittered, asked);
}

/** What a wait needs from the consumer: a heartbeat, and whether to give up (stopping, partition lost). */
export interface WaitControl {
  heartbeat(): Promise<void>;
  shouldAbandon(): boolean;
}

const SLICE_MS = 50;

/**
 * Waits `ms`, heartbeating and checking `shouldAbandon` every {@link SLICE_MS} (kafkajs throttles the actual
 * Heartbeat requests to its `heartbeatInterval`). Resolves false when abandoned. A heartbeat error (e.g. the
 * group is rebalancing) is thrown: the caller must give the message up so kafkajs can re-join.
 */
export async function waitWithHeartbeat(ms: number, control: WaitControl): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (control.shouldAbandon()) return false;
    await control.heartbeat();
    const left = until - Date.now();
    if (left <= 0) return !control.shouldAbandon();
    await new Promise((resolve) => setTimeout(resolve, Math.min(SLICE_MS, left)));
  }
}
