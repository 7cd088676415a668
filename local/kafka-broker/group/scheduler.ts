/**
 * Time source and one-shot timers for the group coordinator, injectable so the
 * state machine can be tested deterministically.
 * @module
 */

/** Cancels a scheduled callback; calling it twice (or after it ran) is harmless. */
export type Cancel = () => void;

/** The coordinator's only view of time. */
export interface Scheduler {
  /** Milliseconds, monotonic enough for session/rebalance deadlines. */
  now(): number;
  /** Runs `fn` once after `ms`; the timer never keeps the process alive. */
  schedule(ms: number, fn: () => void): Cancel;
}

/**
 * The real clock: `Date.now()` and unref'd `setTimeout`s.
 *
 * @example
 * const cancel = realScheduler.schedule(100, () => console.log('tick'));
 * cancel();
 */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

/**
 * A hand-driven clock for tests: nothing runs until {@link ManualScheduler.advance}.
 *
 * @example
 * const clock = new ManualScheduler();
 * clock.schedule(50, () => fired.push('a'));
 * clock.advance(50); // runs 'a'
 */
export class ManualScheduler implements Scheduler {
  private time = 0;
  private seq = 0;
  private readonly tasks = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  schedule(ms: number, fn: () => void): Cancel {
    const id = this.seq++;
    this.tasks.set(id, { at: this.time + Math.max(0, ms), fn });
    return () => {
      this.tasks.delete(id);
    };
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.tasks.size;
  }

  /** Moves time forward by `ms`, running due timers in deadline order (ties: creation order). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.tasks) {
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.tasks.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = target;
  }
}
