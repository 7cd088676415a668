/**
 * A phase that measured nothing must fail, never print 0: these checks throw, and `bench/run.ts` records the
 * error under the phase in `results.errors` and exits non-zero.
 * @module
 */

/** Thrown when a load or a drain measured nothing (no successful request, no message done). */
export class NothingMeasuredError extends Error {
  override name = 'NothingMeasuredError';
}

/** An HTTP load measured something: at least one 2xx answer (the rate counts 2xx answers only). */
export function requireAnswered(
  what: string,
  load: { requests: number; statuses: Record<string, number>; errors: number },
): void {
  if ((load.statuses['2xx'] ?? 0) > 0) return;
  throw new NothingMeasuredError(
    `${what}: no 2xx answer (${load.requests} responses ${JSON.stringify(load.statuses)}, ${load.errors} errors/timeouts)`,
  );
}

/** A drain measured something: at least one message done, over a time span longer than zero. */
export function requireDone(what: string, done: { messages: number; ms: number }): void {
  if (done.messages > 0 && done.ms > 0) return;
  throw new NothingMeasuredError(`${what}: ${done.messages} messages done in ${done.ms} ms`);
}

/** a ÷ b to two decimals (the bench's ratios). */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}
