/**
 * The direct hand-over of committed outbox rows from a store to its relay (see `OutboxPort.attach`), written
 * once for every dialect: the store asks {@link OutboxHandOverSlot.lease} whom to lease rows to when it writes
 * them, collects what its transaction wrote, and calls {@link OutboxHandOverSlot.committed} after the commit.
 * @module
 */
import type { OutboxHandOver, OutboxRecord } from '../runtime/store.ts';

/** An outbox row as a transaction wrote it: leased to the attached relay, or left to `claim`. */
export interface AppendedOutboxRow {
  record: OutboxRecord;
  leased: boolean;
}

/** The one relay a store hands committed rows to. */
export interface OutboxHandOverSlot {
  /** For `OutboxPort.attach`: undefined when a relay is attached already. */
  attach(relay: OutboxHandOver): (() => void) | undefined;
  /** The relay attached now, whose owner the rows of a transaction starting now are leased to. */
  current(): OutboxHandOver | undefined;
}

export function outboxHandOverSlot(): OutboxHandOverSlot {
  let attached: OutboxHandOver | undefined;
  return {
    attach(relay) {
      if (attached !== undefined) return undefined;
      attached = relay;
      return () => {
        if (attached === relay) attached = undefined;
      };
    },
    current: () => attached,
  };
}

/**
 * Runs a store transaction with the hand-over around it: `run` gets the relay to lease rows to (captured once,
 * so every row of the transaction goes to the same relay) and a sink for what it appended; after the commit
 * the leased rows go to that relay — even if it detached meanwhile: it holds their lease, so it must publish or
 * release them. A transaction that throws hands nothing over (its rows rolled back, or — when the commit's
 * outcome is unknown — they wait for their lease to expire).
 */
export async function withHandOver<T>(
  slot: OutboxHandOverSlot,
  run: (relay: OutboxHandOver | undefined, appended: AppendedOutboxRow[]) => Promise<T>,
): Promise<T> {
  const relay = slot.current();
  const appended: AppendedOutboxRow[] = [];
  const result = await run(relay, appended);
  if (relay !== undefined && appended.length > 0) {
    const leased = appended.filter((row) => row.leased).map((row) => row.record);
    relay.committed(leased, appended.length - leased.length);
  }
  return result;
}
