/**
 * The pruning job on a controlled clock over the PGlite test store: windows are moved past by the injected
 * clock, never waited for.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pingRecords } from '../kafka/test-events.ts';
import { testLogger, waitFor } from '../kafka/test-kit.ts';
import { appendOutbox, createTestStore, type TestStore } from '../outbox/test-store.ts';
import type { PruneOptions, TransactionalStore } from '../store.ts';
import { type Pruner, startPruner } from './pruner.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let store: TestStore;
const pruners: Pruner[] = [];
beforeAll(async () => {
  store = await createTestStore('orders');
});
afterAll(() => store?.close());
afterEach(async () => {
  await Promise.all(pruners.splice(0).map((p) => p.stop()));
  await store.reset();
});

/** A clock the test moves: starts now, `advance` jumps it. */
function controlledClock() {
  let now = Date.now();
  return {
    clock: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function pruner(options: Partial<Parameters<typeof startPruner>[0]> = {}): Pruner {
  const started = startPruner({ stores: [store], intervalMs: HOUR, logger: testLogger(), ...options });
  pruners.push(started);
  return started;
}

/** Appends `n` rows and publishes `published` of them (through the port, as a relay would). */
async function outboxRows(n: number, published: number): Promise<void> {
  await appendOutbox(
    store.db,
    Array.from({ length: n }, (_, i) => pingRecords('t', 1, `o-${i}`, i)[0]!),
  );
  for (let left = published; left > 0; ) {
    const claimed = await store.outbox.claim(Math.min(left, 1_000), 60_000, 'relay');
    await store.outbox.markPublished(
      claimed.map((r) => r.id),
      'relay',
    );
    left -= claimed.length;
  }
}

const rows = async (table: 'outbox' | 'inbox') =>
  (await store.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

/** `store` with its prune calls recorded. */
function counting(calls: PruneOptions[]): TransactionalStore<unknown> {
  return {
    ...store,
    maintenance: {
      prune: (options) => {
        calls.push(options);
        return store.maintenance!.prune(options);
      },
    },
  };
}

describe('pruner', () => {
  it('deletes published outbox rows and inbox rows only once the clock is past their windows; unpublished and parked rows stay', async () => {
    const time = controlledClock();
    await outboxRows(4, 2);
    const [toPark] = await store.outbox.claim(1, 60_000, 'relay');
    await store.outbox.recordFailures([{ id: toPark!.id, error: 'bad' }], {
      owner: 'relay',
      retryInMs: 0,
      parkAfter: 1,
    });
    await store.transaction(async (tx) => {
      await tx.recordInbox('group', crypto.randomUUID());
      await tx.recordInbox('group', crypto.randomUUID());
    });
    const job = pruner({ clock: time.clock, windows: { outboxMs: DAY, inboxMs: 7 * DAY } });

    time.advance(23 * HOUR);
    expect(await job.runOnce()).toEqual({ orders: { outbox: 0, inbox: 0, consumer_attempts: 0 } });
    time.advance(2 * HOUR); // 25 h: the published rows are past their day
    expect(await job.runOnce()).toEqual({ orders: { outbox: 2, inbox: 0, consumer_attempts: 0 } });
    expect(await rows('outbox')).toBe(2); // one pending, one parked: never pruned
    expect(await store.outbox.parkedCount()).toBe(1);
    time.advance(6 * DAY); // 7 days and 1 h: past the dedupe window
    expect(await job.runOnce()).toEqual({ orders: { outbox: 0, inbox: 2, consumer_attempts: 0 } });
    expect(await rows('inbox')).toBe(0);
    expect(await rows('outbox')).toBe(2);
  });

  it('works off a backlog in bounded rounds back to back, then waits for the interval', async () => {
    const time = controlledClock();
    // 2,500 rows already published (one statement; through the port it would take seconds on PGlite).
    await store.db.query(
      `INSERT INTO outbox (event_id, topic, key, value, headers, published_at)
       SELECT 'e-' || i, 't', 'o-' || i, '{}', '{}', clock_timestamp() FROM generate_series(1, 2500) AS i`,
    );
    time.advance(2 * DAY);
    const calls: PruneOptions[] = [];
    pruner({ stores: [counting(calls)], clock: time.clock, limit: 1_000, intervalMs: HOUR });
    await waitFor(async () => (await rows('outbox')) === 0, { what: 'the backlog pruned' });
    await new Promise((resolve) => setTimeout(resolve, 200)); // a fourth round would run at once if it were due
    expect(calls.map((c) => c.limit)).toEqual([1_000, 1_000, 1_000]);
    expect(calls.every((c) => c.now.getTime() >= Date.now() + 2 * DAY - 60_000)).toBe(true);
  });

  it('a store that fails is logged and retried next round; the other stores are still pruned', async () => {
    const time = controlledClock();
    await outboxRows(3, 3);
    time.advance(2 * DAY);
    const broken: TransactionalStore<unknown> = {
      ...store,
      service: 'payments',
      maintenance: { prune: () => Promise.reject(new Error('database unreachable')) },
    };
    const job = pruner({ stores: [broken, store], clock: time.clock });
    await waitFor(async () => (await rows('outbox')) === 0, { what: 'the healthy store pruned' });
    expect(await job.runOnce()).toEqual({ orders: { outbox: 0, inbox: 0, consumer_attempts: 0 } });
  });

  it('skips stores without a maintenance port, and stop waits for the round in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const slow: TransactionalStore<unknown> = {
      ...store,
      maintenance: {
        prune: async () => {
          await gate;
          finished = true;
          return { outbox: 0 };
        },
      },
    };
    const { maintenance: _none, ...bare } = store;
    const job = pruner({ stores: [bare, slow] });
    const stopping = job.stop();
    setTimeout(release, 50);
    await stopping;
    expect(finished).toBe(true);
  });
});
