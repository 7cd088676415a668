/**
 * Partitions paused because a dependency is unavailable. The consumer does not resolve the message, pauses the
 * partition (kafkajs stops fetching it; the member stays in the group and keeps heartbeating), and resumes it
 * after a capped, jittered exponential back-off; the next fetch starts again at the unresolved message. The
 * back-off grows while the dependency stays down and resets at the first message finished after it.
 * @module
 */
import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import type { InfrastructureFailure } from '../errors.ts';

export interface PauseOptions {
  /** First pause. Default 250 ms. */
  initialMs?: number;
  /** Longest pause (the back-off's cap): the most a recovered dependency waits to be used again. Default 5000 ms. */
  maxMs?: number;
}

/** A partition paused now, and why. */
export interface PausedPartition {
  topic: string;
  partition: number;
  dependency: string;
  since: Date;
  /** Pauses in a row for this outage. */
  pauses: number;
}

interface State extends PausedPartition {
  timer: NodeJS.Timeout | undefined;
  resume: (() => void) | undefined;
}

export interface Pauses {
  /** Pauses the payload's partition for the next back-off step. */
  pause(payload: Pick<EachBatchPayload, 'batch' | 'pause'>, failure: InfrastructureFailure): void;
  /** A message of the partition finished: its outage (if any) is over. */
  recovered(topic: string, partition: number): void;
  list(): PausedPartition[];
  /** Cancels pending resumes (the consumer is stopping). */
  clear(): void;
}

export function createPauses(
  log: Logger,
  options: PauseOptions = {},
  random: () => number = Math.random,
): Pauses {
  const initialMs = options.initialMs ?? 250;
  const maxMs = options.maxMs ?? 5_000;
  const states = new Map<string, State>();
  return {
    pause({ batch, pause }, failure) {
      const key = `${batch.topic}:${batch.partition}`;
      const state: State = states.get(key) ?? {
        topic: batch.topic,
        partition: batch.partition,
        dependency: failure.dependency,
        since: new Date(),
        pauses: 0,
        timer: undefined,
        resume: undefined,
      };
      state.pauses += 1;
      state.dependency = failure.dependency;
      states.set(key, state);
      const exponential = Math.min(maxMs, initialMs * 2 ** Math.min(state.pauses - 1, 20));
      const delayMs = Math.max(
        Math.round(exponential * (0.5 + random() / 2)),
        Math.min(failure.retryAfterMs, maxMs),
      );
      clearTimeout(state.timer);
      state.resume = pause();
      state.timer = setTimeout(() => {
        state.timer = undefined;
        state.resume?.();
      }, delayMs);
      state.timer.unref();
      const level = state.pauses === 1 || state.pauses % 20 === 0 ? 'warn' : 'debug';
      log[level](
        {
          topic: batch.topic,
          partition: batch.partition,
          dependency: failure.dependency,
          delayMs,
          pauses: state.pauses,
        },
        'partition paused: dependency unavailable',
      );
    },
    recovered(topic, partition) {
      const key = `${topic}:${partition}`;
      const state = states.get(key);
      if (state === undefined) return;
      states.delete(key);
      log.info(
        {
          topic,
          partition,
          dependency: state.dependency,
          pausedMs: Date.now() - state.since.getTime(),
          pauses: state.pauses,
        },
        'partition resumed: dependency available again',
      );
    },
    list: () => [...states.values()].map(({ timer: _t, resume: _r, ...paused }) => paused),
    clear() {
      for (const state of states.values()) clearTimeout(state.timer);
      states.clear();
    },
  };
}
