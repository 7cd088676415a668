/**
 * Seeded randomness for the chaos harness (pure-rand's xoroshiro128+): one seed gives the same kill schedule,
 * order amounts and fault choices on every run. Each use draws from its own stream (a jump of 2^64 values),
 * so adding a draw in one place does not shift the others.
 * @module
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface Random {
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** Float in [0, 1). */
  float(): number;
  /** Float in [min, max). */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** The streams the harness draws from. */
export const STREAMS = { schedule: 0, orders: 1, provider: 2 } as const;

/**
 * @example const rng = seededRandom(42, STREAMS.schedule); rng.int(1, 6)
 */
export function seededRandom(seed: number, stream: number): Random {
  const rng = xoroshiro128plus(seed);
  for (let i = 0; i < stream; i++) rng.jump();
  const float = () => uniformFloat64(rng);
  return {
    int: (min, max) => uniformInt(rng, min, max),
    float,
    between: (min, max) => min + (max - min) * float(),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[uniformInt(rng, 0, items.length - 1)]!;
    },
  };
}
