/**
 * The store contract suite against a real PostgreSQL server (`DATABASE_URL=postgres://…`), plus what PGlite
 * cannot show because it has a single connection: `SKIP LOCKED` between relays, row locks, concurrent migrations.
 * Each run works in its own scratch database, dropped at the end.
 */
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concurrently, newOrder, outboxRecord, sleep } from './contract/fixtures.ts';
import { ordersOutbox } from './orders/schema.pg.ts';
import { createOrdersStore } from './orders/store.pg.ts';
import { createPaymentsStore } from './payments/store.pg.ts';
import { isPostgresUrl, openPostgres, type PostgresDatabase } from './postgres/connect.ts';
import { migrate } from './postgres/migrate.ts';
import { createScratchDatabase, type ScratchDatabase } from './postgres/scratch-database.ts';
import { truncateServiceTables } from './postgres/test-database.ts';
import { describeStoreContract } from './store-contract.ts';

const url = process.env.DATABASE_URL;
const usable = url !== undefined && isPostgresUrl(url);
if (!usable) {
  const reason = url === undefined ? 'DATABASE_URL is not set' : 'DATABASE_URL is not a postgres:// URL';
  console.log(`[skipped] PostgreSQL store suite: ${reason}`);
}

describe.skipIf(!usable)('PostgreSQL server', () => {
  let scratch: ScratchDatabase | undefined;
  const connections: PostgresDatabase[] = [];
  /** A new pool on the scratch database; closed after the suite. */
  const connect = async (maxConnections = 10): Promise<PostgresDatabase> => {
    const conn = await openPostgres({ url: scratch!.url, maxConnections });
    connections.push(conn);
    return conn;
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase(url!);
    const [a, b] = [await connect(), await connect()];
    // Four migrators at once, from two pools: the advisory lock makes them apply each migration once.
    await Promise.all([
      migrate(createOrdersStore(a.db)),
      migrate(createPaymentsStore(a.db)),
      migrate(createOrdersStore(b.db)),
      migrate(createPaymentsStore(b.db)),
    ]);
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await scratch?.drop();
  });

  describeStoreContract('PostgreSQL server', async () => {
    const { db } = await connect();
    return {
      orders: createOrdersStore(db),
      payments: createPaymentsStore(db),
      reset: () => truncateServiceTables(db),
      concurrentTransactions: true,
      close: async () => {},
    };
  });

  describe('concurrency between connections', () => {
    it('re-running migrate is a no-op', async () => {
      const { db } = await connect(2);
      await migrate(createOrdersStore(db));
      await migrate(createPaymentsStore(db));
    });

    it('two relays on two pools racing for outbox rows never claim the same row', async () => {
      const [a, b] = [await connect(), await connect()];
      await truncateServiceTables(a.db);
      const total = 300;
      const writer = createOrdersStore(a.db);
      await writer.transaction((tx) => tx.appendOutbox(Array.from({ length: total }, () => outboxRecord())));
      const relays = [createOrdersStore(a.db), createOrdersStore(b.db)];
      const claimedBy = relays.map(() => [] as bigint[]);
      // Each relay runs four workers; each claims a small batch, "publishes" it, and repeats until empty.
      await Promise.all(
        relays.flatMap((relay, r) =>
          Array.from({ length: 4 }, async () => {
            for (;;) {
              const batch = await relay.outbox.claim(7, 60_000);
              if (batch.length === 0) return;
              claimedBy[r]!.push(...batch.map((row) => row.id));
              await relay.outbox.markPublished(batch.map((row) => row.id));
            }
          }),
        ),
      );
      const all = claimedBy.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(total);
      expect(claimedBy[0]!.length).toBeGreaterThan(0);
      expect(claimedBy[1]!.length).toBeGreaterThan(0);
      expect(await writer.outbox.pendingCount()).toBe(0);
    });

    it('claims race without serialization failures on a database whose default isolation is REPEATABLE READ', async () => {
      // The claim pins READ COMMITTED like the store transactions: at REPEATABLE READ a claim that waited for the
      // claim lock would update rows changed since its snapshot and fail with 40001.
      const rr = await createScratchDatabase(url!);
      const pools: PostgresDatabase[] = [];
      try {
        const setup = await openPostgres({ url: rr.url, maxConnections: 1 });
        pools.push(setup);
        await migrate(createOrdersStore(setup.db));
        await setup.db.execute(
          sql.raw(`alter database "${rr.name}" set default_transaction_isolation = 'repeatable read'`),
        );
        const [a, b] = [await openPostgres({ url: rr.url }), await openPostgres({ url: rr.url })];
        pools.push(a, b);
        const shown = (await a.db.execute(sql`show transaction_isolation`)) as unknown as {
          rows: { transaction_isolation: string }[];
        };
        expect(shown.rows[0]?.transaction_isolation).toBe('repeatable read');
        const total = 200;
        const writer = createOrdersStore(a.db);
        await writer.transaction((tx) =>
          tx.appendOutbox(Array.from({ length: total }, (_, i) => outboxRecord({ key: `k-${i % 7}` }))),
        );
        const relays = [createOrdersStore(a.db), createOrdersStore(b.db)];
        const claimed: bigint[] = [];
        await Promise.all(
          relays.flatMap((relay, r) =>
            Array.from({ length: 4 }, async (_, w) => {
              const owner = `relay-${r}-${w}`;
              for (;;) {
                const batch = await relay.outbox.claim(5, 60_000, owner);
                if (batch.length === 0) return;
                claimed.push(...batch.map((row) => row.id));
                await relay.outbox.markPublished(
                  batch.map((row) => row.id),
                  owner,
                );
              }
            }),
          ),
        );
        expect(new Set(claimed).size).toBe(total);
        expect(await writer.outbox.pendingCount()).toBe(0);
      } finally {
        await Promise.all(pools.map((p) => p.close()));
        await rr.drop();
      }
    });

    it('claim skips rows another transaction holds locked instead of waiting for them', async () => {
      const [a, b] = [await connect(), await connect()];
      await truncateServiceTables(a.db);
      const writer = createOrdersStore(a.db);
      await writer.transaction((tx) => tx.appendOutbox(Array.from({ length: 4 }, () => outboxRecord())));
      const relay = createOrdersStore(b.db);
      const { locked, claimed } = await a.db.transaction(async (tx) => {
        const rows = await tx
          .select({ id: ordersOutbox.id })
          .from(ordersOutbox)
          .orderBy(asc(ordersOutbox.id))
          .limit(2)
          .for('update');
        return { locked: rows.map((r) => r.id), claimed: await relay.outbox.claim(10, 60_000) };
      });
      expect(claimed).toHaveLength(2);
      for (const row of claimed) expect(locked).not.toContain(row.id);
      expect(await relay.outbox.claim(10, 60_000)).toHaveLength(2);
    });

    it('lockOrder makes a second transaction wait until the first commits, then see its update', async () => {
      const [a, b] = [await connect(), await connect()];
      const first = createOrdersStore(a.db);
      const second = createOrdersStore(b.db);
      const { order } = await first.repo.insertOrder(newOrder());
      let signalLocked!: () => void;
      const locked = new Promise<void>((resolve) => {
        signalLocked = resolve;
      });
      const holder = first.transaction(async (tx) => {
        await tx.repo.lockOrder(order.id);
        signalLocked();
        await sleep(300);
        const paid = {
          status: 'CONFIRMED',
          paymentStatus: 'PAID',
          failureReason: null,
          updatedAt: new Date(),
        } as const;
        await tx.repo.updateOrder(order.id, { status: 'PENDING', paymentStatus: 'NOT_PAID' }, paid);
      });
      await locked;
      const started = performance.now();
      const seen = await second.transaction((tx) => tx.repo.lockOrder(order.id));
      const waited = performance.now() - started;
      await holder;
      expect(seen?.status).toBe('CONFIRMED');
      expect(waited).toBeGreaterThan(150);
    });

    it('concurrent duplicate order inserts from two pools create one row and never throw', async () => {
      const [a, b] = [await connect(), await connect()];
      const stores = [createOrdersStore(a.db), createOrdersStore(b.db)];
      const order = newOrder();
      const results = await concurrently(16, (i) =>
        stores[i % 2]!.transaction((tx) => tx.repo.insertOrder(order)),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
    });
  });
});
