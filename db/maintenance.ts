/**
 * The `MaintenancePort` both dialects' store bases offer: a list of prune tasks run one after the other
 * (the messaging tables' first, then whatever the service adds, e.g. expired idempotency keys).
 * @module
 */
import type { MaintenancePort, PruneOptions, PruneTask } from '../runtime/store.ts';

/** Task names of the messaging tables every service has. */
export const MESSAGING_PRUNE_TASKS = ['outbox', 'inbox', 'consumer_attempts'] as const;

/**
 * Runs `tasks` in order; each deletes at most `options.limit` rows. A failing task does not stop the
 * others; the first error is rethrown after all ran.
 * @example const maintenance = maintenanceFromTasks([{ name: 'outbox', prune: ({ now, limit }) => … }]);
 */
export function maintenanceFromTasks(tasks: readonly PruneTask[]): MaintenancePort {
  const names = tasks.map((task) => task.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new Error(`prune task "${duplicate}" is listed twice`);
  return {
    async prune(options: PruneOptions) {
      if (!Number.isInteger(options.limit) || options.limit < 1)
        throw new RangeError(`prune: limit must be a positive integer, got ${options.limit}`);
      const report: Record<string, number> = {};
      let failure: unknown;
      for (const task of tasks) {
        try {
          report[task.name] = await task.prune(options);
        } catch (error) {
          failure ??= new Error(`prune task "${task.name}" failed`, { cause: error });
        }
      }
      if (failure !== undefined) throw failure;
      return report;
    },
  };
}

/** One bounded delete: at most `limit` rows older than `before`; resolves how many it deleted. */
export type BoundedDelete = (before: Date, limit: number) => Promise<number>;

/**
 * The messaging tables' prune tasks from each dialect's bounded deletes: the outbox (published rows), the inbox
 * (past the dedupe window) and consumer attempts, each before its own window.
 */
export function messagingPruneTasks(
  deletes: Record<(typeof MESSAGING_PRUNE_TASKS)[number], BoundedDelete>,
): PruneTask[] {
  const windowOf = { outbox: 'outboxMs', inbox: 'inboxMs', consumer_attempts: 'attemptsMs' } as const;
  return MESSAGING_PRUNE_TASKS.map((name) => ({
    name,
    prune: ({ now, limit, windows }) => deletes[name](windowStart(now, windows[windowOf[name]]), limit),
  }));
}

/** `now` minus `ms`. */
export const windowStart = (now: Date, ms: number): Date => new Date(now.getTime() - ms);
