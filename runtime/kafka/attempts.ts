/**
 * The attempt counter a consumer uses for its messages: the store's durable `AttemptsPort` when it has one
 * (counts survive rollbacks, rebalances, restarts and crashes), else a map in memory. Every call is guarded, so
 * a database outage while counting is a `DependencyUnavailableError` (the consumer pauses; nothing is spent).
 * When and why the consumer counts: ARCHITECTURE.md beside this file ("Attempts").
 * @module
 */
import type { AttemptRecord, AttemptsPort, TransactionalStore } from '../store.ts';
import { unavailableOr } from '../unavailable.ts';

export interface AttemptCounter {
  /** Counts an attempt of each event that is about to run; resolves each one's record including it. */
  begin(eventIds: readonly string[]): Promise<Map<string, AttemptRecord>>;
  /** Records why an attempt failed; `begun` false counts the attempt too (it ran without `begin`). */
  fail(eventId: string, error: string, begun: boolean): Promise<AttemptRecord>;
  /**
   * Takes back begun attempts that did not count against their events (the infrastructure failed, or a cold batch
   * was rolled back for another message): one statement, best effort, else folded into each one's next `begin`.
   */
  refund(eventIds: readonly string[]): Promise<void>;
  /** True when the event was handled already (its inbox row exists). */
  handled(eventId: string): Promise<boolean>;
}

/** The counter of consumer group `groupId` over `store`. */
export function createAttemptCounter(store: TransactionalStore<unknown>, groupId: string): AttemptCounter {
  const port = store.attempts ?? memoryAttempts();
  /** Refunds that could not be written (database down): folded into the event's next `begin`. */
  const owed = new Map<string, number>();
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw unavailableOr(store, error);
    }
  };
  const one = (records: Map<string, AttemptRecord>, eventId: string): AttemptRecord =>
    records.get(eventId) ?? { attempts: 0, lastError: null };

  return {
    async begin(eventIds) {
      const plain = eventIds.filter((id) => !owed.has(id));
      const records =
        plain.length > 0 ? await call(() => port.record(groupId, plain, { delta: 1 })) : new Map();
      for (const id of eventIds.filter((id) => owed.has(id))) {
        const delta = 1 - owed.get(id)!;
        const record = one(await call(() => port.record(groupId, [id], { delta })), id);
        owed.delete(id);
        records.set(id, record);
      }
      return records;
    },
    async fail(eventId, error, begun) {
      return one(await call(() => port.record(groupId, [eventId], { delta: begun ? 0 : 1, error })), eventId);
    },
    async refund(eventIds) {
      if (eventIds.length === 0) return;
      try {
        await call(() => port.record(groupId, eventIds, { delta: -1 }));
      } catch {
        for (const id of eventIds) owed.set(id, (owed.get(id) ?? 0) + 1);
      }
    },
    handled: (eventId) => call(() => port.handled(groupId, eventId)),
  };
}

/** Counts in this process only: what a store without an `AttemptsPort` gets. */
function memoryAttempts(): AttemptsPort {
  const records = new Map<string, AttemptRecord>();
  return {
    async record(_consumer, eventIds, { delta, error }) {
      const out = new Map<string, AttemptRecord>();
      for (const id of eventIds) {
        const before = records.get(id) ?? { attempts: 0, lastError: null };
        const after = {
          attempts: Math.max(0, before.attempts + delta),
          lastError: error ?? before.lastError,
        };
        records.set(id, after);
        out.set(id, after);
      }
      return out;
    },
    async handled() {
      return false;
    },
  };
}
