/**
 * Seeds and run parameters of the property-based fuzz suites (`*.fuzz.test.ts`). They run in `npm test`, so
 * their inputs are deterministic: a fixed seed per suite, overridable with `FUZZ_SEED=<n>` to explore further.
 * On a failure fast-check's message names the seed and the counterexample's path. The same seed generates the
 * same requests and messages again; `FUZZ_PATH=<path>` replays the counterexample alone, without the state the
 * runs before it left in the database (orders, keys, inbox rows), so a failure that depends on that state needs
 * the whole seed. (Which Kafka messages share a fetched batch depends on timing, not on the seed.)
 * @module
 */
import type * as fc from 'fast-check';

/** The seed of a suite: `FUZZ_SEED` when set, else the suite's fixed default. */
export function fuzzSeed(fixed: number): number {
  const text = process.env.FUZZ_SEED;
  if (text === undefined || text === '') return fixed;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer (got "${text}")`);
  return seed;
}

/** fast-check parameters for `numRuns` runs from `seed` (plus `FUZZ_PATH` to replay one counterexample). */
export function fuzzParameters<T>(
  seed: number,
  numRuns: number,
  extra: fc.Parameters<T> = {},
): fc.Parameters<T> {
  const path = process.env.FUZZ_PATH;
  return { seed, numRuns, ...(path === undefined || path === '' ? {} : { path }), ...extra };
}

/** `12345` → `12,345`, for the one-line summaries. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
