/**
 * The fault schedule of a chaos run, computed up front from the seed: which process is SIGKILLed when, and
 * how long it stays down; or when the outage window of an outage scenario opens. A seeded run replays the
 * same schedule whatever the machine's speed.
 * @module
 */
import { type Random, STREAMS, seededRandom } from './random.ts';

/** One process slot the harness can kill, e.g. `{ name: 'process-payment#2', kind: 'process-payment' }`. */
export interface Target {
  name: string;
  kind: string;
}

/** SIGKILL `target` at `atMs` (from the start of the load), start it again `pauseMs` later. */
export interface Kill {
  atMs: number;
  target: string;
  kind: string;
  pauseMs: number;
}

export interface KillScheduleOptions {
  seed: number;
  /** Kills happen in [quietStartMs, durationMs - quietEndMs). */
  durationMs: number;
  targets: readonly Target[];
  /** Mean time between two kills; each gap is uniform in [0.5, 1.5] × this. */
  meanIntervalMs: number;
  /** Downtime of a killed process, uniform in [minPauseMs, maxPauseMs]. */
  minPauseMs: number;
  maxPauseMs: number;
  quietStartMs: number;
  quietEndMs: number;
  /** The kind that must be killed at least once when there are three kills or more (default `broker`). */
  mustKill?: string;
}

/**
 * Kills at random times; each picks a kind uniformly among the kinds with a slot that is up at that time (per
 * the schedule itself: killed slots are down for their pause), then a slot of that kind. When the schedule
 * has three kills or more and none of `mustKill`, the kill nearest the middle becomes one.
 * @example killSchedule({ seed: 1, durationMs: 120_000, targets, meanIntervalMs: 5_000, minPauseMs: 500, maxPauseMs: 5_000, quietStartMs: 5_000, quietEndMs: 10_000 })
 */
export function killSchedule(options: KillScheduleOptions): Kill[] {
  const rng = seededRandom(options.seed, STREAMS.schedule);
  const downUntil = new Map<string, number>();
  const kills: Kill[] = [];
  const end = options.durationMs - options.quietEndMs;
  let at = options.quietStartMs + gap(rng, options.meanIntervalMs);
  while (at < end) {
    const up = options.targets.filter((t) => (downUntil.get(t.name) ?? -1) < at);
    if (up.length > 0) {
      const kind = rng.pick([...new Set(up.map((t) => t.kind))]);
      const target = rng.pick(up.filter((t) => t.kind === kind));
      const pauseMs = Math.round(rng.between(options.minPauseMs, options.maxPauseMs));
      kills.push({ atMs: Math.round(at), target: target.name, kind, pauseMs });
      downUntil.set(target.name, at + pauseMs);
    }
    at += gap(rng, options.meanIntervalMs);
  }
  const mustKill = options.mustKill ?? 'broker';
  const slot = options.targets.find((t) => t.kind === mustKill);
  if (slot !== undefined && kills.length >= 3 && !kills.some((k) => k.kind === mustKill)) {
    const middle = kills[Math.floor(kills.length / 2)]!;
    middle.target = slot.name;
    middle.kind = slot.kind;
  }
  return kills;
}

function gap(rng: Random, meanMs: number): number {
  return rng.between(0.5 * meanMs, 1.5 * meanMs);
}

/** Kills per kind, e.g. `{ broker: 3, 'process-payment': 5 }`, every kind of `targets` listed (0 when never). */
export function killsByKind(kills: readonly Kill[], targets: readonly Target[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of targets) counts[t.kind] = 0;
  for (const k of kills) counts[k.kind] = (counts[k.kind] ?? 0) + 1;
  return counts;
}
