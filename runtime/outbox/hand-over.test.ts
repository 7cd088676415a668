/**
 * The relay over a real service store (PGlite) with the direct hand-over: committed rows published without a
 * claim, and per-key order kept against rows that are rejected, waiting out their back-off or hit by an outage.
 */
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import type { PgliteQueryClient } from '../../db/postgres/pglite-client.ts';
import { createTestDatabase, type TestDatabase } from '../../db/postgres/testing.ts';
import { kafkaPublisher } from '../kafka/publisher.ts';
import { pingRecords, uniqueTopic } from '../kafka/test-events.ts';
import { readTopic, startTestKafka, type TestKafka, waitFor } from '../kafka/test-kit.ts';
import { ensureTopics } from '../kafka/topics.ts';
import type { NewOutboxRecord, OutboxPort } from '../store.ts';
import { PublishRejectedError } from './errors.ts';
import { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './relay.ts';

let k: TestKafka;
let t: TestDatabase;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  [k, t] = await Promise.all([startTestKafka(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([k?.stop(), t?.close()]);
});
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await t.reset();
});

/** The orders store's outbox, counting claims. */
function countingOutbox(): { outbox: OutboxPort; claims: () => number } {
  const real = t.orders.outbox;
  let claims = 0;
  return {
    outbox: {
      ...real,
      claim: (...args) => {
        claims++;
        return real.claim(...args);
      },
    },
    claims: () => claims,
  };
}

function relay(options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  const started = startOutboxRelay({
    outbox: t.orders.outbox,
    publish: kafkaPublisher(k.producer),
    pollMs: 50,
    batchSize: 10,
    leaseMs: 5_000,
    logger: k.logger,
    ...options,
  });
  relays.push(started);
  return started;
}

/**
 * The orders store over the test database through a client that records what it runs: `statements` (texts,
 * BEGIN and COMMIT included) and `transactions`.
 */
function countingStore() {
  const inner = (t.db as unknown as { $client: PgliteQueryClient }).$client;
  const log = { statements: [] as string[], transactions: 0 };
  const counted = <C extends Pick<PgliteQueryClient, 'query'>>(client: C): C =>
    new Proxy(client, {
      get: (target, name, receiver) =>
        name === 'query'
          ? (text: string, ...rest: unknown[]) => {
              log.statements.push(text);
              return (target.query as (...args: unknown[]) => unknown)(text, ...rest);
            }
          : Reflect.get(target, name, receiver),
    });
  const client: PgliteQueryClient = {
    query: (text, params, options) => counted(inner).query(text, params, options),
    transaction: (fn) => {
      log.transactions++;
      log.statements.push('BEGIN');
      return inner.transaction((tx) => fn(counted(tx))).finally(() => log.statements.push('COMMIT'));
    },
  };
  const store = createOrdersStore(drizzle({ client: client as unknown as PGlite }));
  return { store, log };
}

/** A publisher that rejects each record in `rejections` as often as it says, and otherwise publishes. */
function rejecting(rejections: Map<string, number>, outages = { count: 0 }) {
  const real = kafkaPublisher(k.producer);
  return async (records: readonly NewOutboxRecord[]) => {
    if (outages.count > 0) {
      outages.count--;
      throw new Error('broker unreachable');
    }
    const bad = records.filter((r) => (rejections.get(r.eventId) ?? 0) > 0);
    if (bad.length > 0) {
      if (records.length === 1) rejections.set(bad[0]!.eventId, rejections.get(bad[0]!.eventId)! - 1);
      throw new PublishRejectedError('invalid record', { records: bad, reason: 'INVALID_RECORD' });
    }
    await real(records);
  };
}

const keyAndN = (messages: { key: Buffer | null; value: Buffer | null }[]) =>
  messages.map((m) => `${String(m.key)}:${(JSON.parse(String(m.value)) as { data: { n: number } }).data.n}`);

const commit = (records: readonly NewOutboxRecord[]) =>
  t.orders.transaction((tx) => tx.appendOutbox(records));

describe('outbox relay with the direct hand-over', () => {
  it('publishes what a transaction committed without claiming it from the table', async () => {
    const topic = uniqueTopic();
    const reader = await readTopic(k.kafka, topic);
    const { outbox, claims } = countingOutbox();
    const r = relay({ outbox, pollMs: 60_000 });
    await r.drain(); // the start-up claim (crash recovery) and the drain's
    const claimsBefore = claims();

    for (let i = 0; i < 5; i++) {
      await commit(pingRecords(topic, 2, `o-${i}`, 2 * i));
      r.nudge(); // what the host's onCommitted does
    }
    await waitFor(() => reader.messages.length === 10, { what: '10 messages' });
    expect(claims()).toBe(claimsBefore);
    expect(keyAndN(reader.messages)).toEqual(
      Array.from({ length: 10 }, (_, n) => `o-${Math.floor(n / 2)}:${n}`),
    );
    await waitFor(async () => (await t.orders.outbox.pendingCount()) === 0, { what: 'rows ended' });
    await reader.stop();
  });

  it('costs one statement per published batch after the commit: no claim transaction, no advisory lock', async () => {
    const topic = uniqueTopic();
    const reader = await readTopic(k.kafka, topic);
    const { store, log } = countingStore();
    const r = relay({ outbox: store.outbox, pollMs: 60_000 });
    await r.drain();
    for (let order = 0; order < 3; order++) {
      log.statements.length = 0;
      log.transactions = 0;
      await store.transaction((tx) => tx.appendOutbox(pingRecords(topic, 2, `o-${order}`, 2 * order)));
      r.nudge();
      expect(log.transactions).toBe(1);
      expect(log.statements).toHaveLength(3); // BEGIN, the append, COMMIT
      await waitFor(() => reader.messages.length === 2 * (order + 1), { what: `order ${order}'s messages` });
      await waitFor(() => log.statements.length === 4, { what: 'the delete' });
      expect(log.statements[3]).toMatch(/^delete from "orders"\."outbox" where/);
      expect(log.statements.join('\n')).not.toMatch(/pg_advisory_xact_lock|update "orders"\."outbox"/);
      expect(log.transactions).toBe(1);
    }
    // Every append and every delete is the same text, whatever the batch: one prepared statement each.
    await store.transaction((tx) => tx.appendOutbox(pingRecords(topic, 7, 'o-big', 100)));
    await waitFor(() => reader.messages.length === 13, { what: 'the 7-row batch' });
    await waitFor(() => log.statements.length === 8, { what: 'its delete' });
    expect(log.statements[5]).toBe(log.statements[1]);
    expect(log.statements[7]).toBe(log.statements[3]);
    await reader.stop();
  });

  it('a row behind a rejected row of its key waiting out its back-off waits too; other keys flow', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const [first] = pingRecords(topic, 1, 'o-k', 0);
    const rejections = new Map([[first!.eventId, 1]]);
    relay({ publish: rejecting(rejections), pollMs: 400, maxBackoffMs: 400 });

    await commit([first!]);
    await waitFor(() => rejections.get(first!.eventId) === 0, { what: 'the first row rejected' });
    await commit(pingRecords(topic, 1, 'o-k', 1)); // written behind the unpublished first row
    await commit(pingRecords(topic, 1, 'o-other', 0));
    await waitFor(() => reader.messages.length >= 1, { what: "o-other's message" });
    expect(keyAndN(reader.messages)).toEqual(['o-other:0']);

    await waitFor(() => reader.messages.length === 3, { what: "o-k's two messages", timeoutMs: 5_000 });
    expect(keyAndN(reader.messages)).toEqual(['o-other:0', 'o-k:0', 'o-k:1']);
    await reader.stop();
  });

  it("a rejected row holds back its key's later rows of the same transaction, also in a later batch", async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const keyed = pingRecords(topic, 3, 'o-k', 0);
    const rejections = new Map([[keyed[0]!.eventId, 1]]);
    relay({ publish: rejecting(rejections), batchSize: 2, pollMs: 50, maxBackoffMs: 100 });

    // Batches of two: [k0 (rejected), k1] then [k2, j0]: k2 must not go out before k0.
    await commit([...keyed, ...pingRecords(topic, 1, 'o-j', 0)]);
    await waitFor(() => reader.messages.length === 4, { what: 'four messages' });
    expect(keyAndN(reader.messages).filter((m) => m.startsWith('o-k'))).toEqual(['o-k:0', 'o-k:1', 'o-k:2']);
    expect(await t.orders.outbox.pendingCount()).toBe(0);
    await reader.stop();
  });

  it('an outage gives the handed rows back: published after the back-off, in order, charged to nobody', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const outages = { count: 1 };
    const failed: string[] = [];
    relay({
      publish: rejecting(new Map(), outages),
      batchSize: 2,
      pollMs: 50,
      maxBackoffMs: 100,
      observer: { published: () => {}, failed: (kind) => failed.push(kind) },
    });
    await commit(pingRecords(topic, 5, 'o-k', 0));
    await waitFor(() => reader.messages.length === 5, { what: 'five messages' });
    expect(keyAndN(reader.messages)).toEqual(['o-k:0', 'o-k:1', 'o-k:2', 'o-k:3', 'o-k:4']);
    expect(failed).toEqual(['outage']);
    expect(await t.orders.outbox.pendingCount()).toBe(0);
    await reader.stop();
  });

  it('a relay falling behind leaves what is beyond ten batches in the table: claimed, in order', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const { outbox, claims } = countingOutbox();
    const r = relay({ outbox, batchSize: 1, pollMs: 60_000 });
    await r.drain();
    const claimsBefore = claims();
    const keys = Array.from({ length: 11 }, (_, i) => `o-${i}`);
    await commit(pingRecords(topic, 4, 'o-k', 0)); // handed over
    // 4 + 11 > 10 batches of 1: these go back to the table and are claimed.
    await commit(keys.flatMap((key, i) => pingRecords(topic, 1, key, 10 + i)));
    await waitFor(() => reader.messages.length === 15, { what: '15 messages' });
    expect(keyAndN(reader.messages).filter((m) => m.startsWith('o-k:'))).toEqual([
      'o-k:0',
      'o-k:1',
      'o-k:2',
      'o-k:3',
    ]);
    expect(new Set(keyAndN(reader.messages))).toEqual(
      new Set([...['o-k:0', 'o-k:1', 'o-k:2', 'o-k:3'], ...keys.map((key, i) => `${key}:${10 + i}`)]),
    );
    expect(claims()).toBeGreaterThan(claimsBefore);
    await waitFor(async () => (await t.orders.outbox.pendingCount()) === 0, { what: 'rows ended' });
    await reader.stop();
  });

  it('stop() detaches: rows committed afterwards are left unleased for the next relay', async () => {
    const topic = uniqueTopic();
    const r = relay();
    await r.stop();
    await commit(pingRecords(topic, 1));
    const [row] = await t.orders.outbox.claim(10, 1_000, 'next-relay');
    expect(row?.attempts).toBe(1);
  });
});

/**
 * A publisher over the embedded broker that, while `feed.on`, commits one more row of a fresh key after each
 * publish (so the relay always has handed rows waiting when a batch ends: sustained load), up to `feed.max`;
 * `feed.hold` makes the next publish wait until it resolves; `feed.sent` lists each request's keys.
 */
function feeding(topic: string) {
  const real = kafkaPublisher(k.producer);
  const feed = {
    on: false,
    fed: 0,
    max: 300,
    hold: undefined as Promise<void> | undefined,
    sent: [] as string[][],
  };
  const publish = async (records: readonly NewOutboxRecord[]) => {
    if (feed.hold !== undefined) await feed.hold;
    feed.sent.push(records.map((r) => r.key));
    await real(records);
    if (feed.on && feed.fed < feed.max) {
      feed.fed++;
      await commit(pingRecords(topic, 1, `o-feed-${feed.fed}`, feed.fed));
    }
  };
  return { feed, publish };
}

const leaseOwners = async () =>
  (
    (await t.db.execute(sql`select key, lease_owner from orders.outbox order by id`)) as unknown as {
      rows: { key: string; lease_owner: string | null }[];
    }
  ).rows;

describe('outbox relay with the direct hand-over, under sustained commits', () => {
  it('a row written behind a handed row of its key is claimed once that row is out, while commits go on', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const { feed, publish } = feeding(topic);
    const r = relay({ publish, pollMs: 60_000, owner: 'relay-a' }); // no poll comes to the rescue
    await r.drain();

    let open!: () => void;
    feed.hold = new Promise<void>((resolve) => (open = resolve));
    feed.on = true;
    await commit(pingRecords(topic, 1, 'o-feed-0', 0)); // handed; its publish waits for `open`
    await commit(pingRecords(topic, 1, 'o-k', 0)); // handed
    await commit(pingRecords(topic, 1, 'o-k', 1)); // behind o-k:0, unpublished: written unleased, for the claim
    expect((await leaseOwners()).filter((row) => row.key === 'o-k')).toEqual([
      { key: 'o-k', lease_owner: 'relay-a' },
      { key: 'o-k', lease_owner: null },
    ]);
    feed.hold = undefined;
    open();

    const seen = () => keyAndN(reader.messages).filter((m) => m.startsWith('o-k:'));
    await waitFor(() => seen().length === 2, { what: "o-k's two messages", timeoutMs: 10_000 });
    // The claim came while the commits went on, not once they stopped (the relay's handed rows ran dry).
    expect(feed.fed).toBeLessThan(feed.max);
    expect(seen()).toEqual(['o-k:0', 'o-k:1']);
    // The claimed row shared its request with a handed row, behind it: no round trip of its own.
    const request = feed.sent.find((keys) => keys.includes('o-k') && !keys.slice(0, -1).includes('o-k'))!;
    expect(request.at(-1)).toBe('o-k');
    expect(request.length).toBeGreaterThan(1);
    feed.on = false;
    await waitFor(async () => (await t.orders.outbox.pendingCount()) === 0, { what: 'rows ended' });
    await reader.stop();
  });

  it('the poll still takes rows left in the table (a crashed relay, another store) while commits go on', async () => {
    const topic = uniqueTopic();
    await ensureTopics(k.kafka, [{ topic, partitions: 1 }]);
    const reader = await readTopic(k.kafka, topic);
    const { feed, publish } = feeding(topic);
    relay({ publish, pollMs: 200 });
    feed.on = true;
    await commit(pingRecords(topic, 1, 'o-feed-0', 0));
    // Written by a store object no relay is attached to: unleased, so only a claim publishes it.
    await createOrdersStore(t.db).transaction((tx) => tx.appendOutbox(pingRecords(topic, 1, 'o-left', 0)));

    await waitFor(() => keyAndN(reader.messages).includes('o-left:0'), {
      what: 'the row left in the table',
      timeoutMs: 10_000,
    });
    expect(feed.fed).toBeLessThan(feed.max);
    feed.on = false;
    await waitFor(async () => (await t.orders.outbox.pendingCount()) === 0, { what: 'rows ended' });
    await reader.stop();
  });
});
