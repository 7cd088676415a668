import { describe, expect, it } from 'vitest';
import { type Kill, type KillScheduleOptions, killSchedule, killsByKind, type Target } from './schedule.ts';

const targets: Target[] = [
  { name: 'broker', kind: 'broker' },
  { name: 'create-order#1', kind: 'create-order' },
  { name: 'process-payment#1', kind: 'process-payment' },
  { name: 'process-payment#2', kind: 'process-payment' },
  { name: 'ship-order#1', kind: 'ship-order' },
  { name: 'ship-order#2', kind: 'ship-order' },
];
const options = (overrides: Partial<KillScheduleOptions> = {}): KillScheduleOptions => ({
  seed: 42,
  durationMs: 150_000,
  targets,
  meanIntervalMs: 5_000,
  minPauseMs: 500,
  maxPauseMs: 5_000,
  quietStartMs: 5_000,
  quietEndMs: 10_000,
  ...overrides,
});

describe('killSchedule', () => {
  it('is the same for the same seed, and another for another seed', () => {
    expect(killSchedule(options())).toEqual(killSchedule(options()));
    expect(killSchedule(options({ seed: 43 }))).not.toEqual(killSchedule(options()));
  });

  it('kills about duration / interval times, inside the window, with pauses in range', () => {
    const kills = killSchedule(options());
    expect(kills.length).toBeGreaterThanOrEqual(20);
    expect(kills.length).toBeLessThanOrEqual(30);
    for (const k of kills) {
      expect(k.atMs).toBeGreaterThanOrEqual(5_000);
      expect(k.atMs).toBeLessThan(140_000);
      expect(k.pauseMs).toBeGreaterThanOrEqual(500);
      expect(k.pauseMs).toBeLessThanOrEqual(5_000);
    }
    expect(kills.map((k) => k.atMs)).toEqual(kills.map((k) => k.atMs).sort((a, b) => a - b));
  });

  it('never kills a slot that the schedule still has down', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const kills = killSchedule(options({ seed, meanIntervalMs: 1_000, maxPauseMs: 8_000 }));
      const downUntil = new Map<string, number>();
      for (const k of kills) {
        expect(downUntil.get(k.target) ?? -1).toBeLessThan(k.atMs);
        downUntil.set(k.target, k.atMs + k.pauseMs);
      }
    }
  });

  it('kills the broker at least once when it kills three times or more', () => {
    for (let seed = 0; seed < 50; seed++) {
      const kills: Kill[] = killSchedule(options({ seed, durationMs: 40_000 }));
      if (kills.length >= 3) expect(kills.some((k) => k.kind === 'broker')).toBe(true);
    }
  });

  it('counts kills per kind, listing the kinds never killed', () => {
    const counts = killsByKind(
      [{ atMs: 1, target: 'ship-order#2', kind: 'ship-order', pauseMs: 1 }],
      targets,
    );
    expect(counts).toEqual({ broker: 0, 'create-order': 0, 'process-payment': 0, 'ship-order': 1 });
  });
});
