/**
 * The store contract suite against a real SQL Server started by testcontainers, once with
 * READ_COMMITTED_SNAPSHOT OFF (SQL Server's default) and once ON (Azure SQL's default), plus what only a
 * server can show: two relays racing, READPAST skipping locked rows, UPDLOCK making a second locker wait,
 * concurrent duplicate inserts from two pools, concurrent migrations, case-sensitive keys, GUIDs read in
 * lower case. Runs only when `test/setup/containers.global.ts` found a container runtime.
 */
import { MSSQLServerContainer, type StartedMSSQLServerContainer } from '@testcontainers/mssqlserver';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { skipLine } from '../test/setup/container-runtime.ts';
import { concurrently, newOrder, notification, outboxRecord, sleep } from './contract/fixtures.ts';
import { type MssqlDatabase, openMssql } from './mssql/connect.ts';
import { migrate } from './mssql/migrate.ts';
import {
  createMssqlScratchDatabase,
  type MssqlScratchDatabase,
  resetServiceTables,
} from './mssql/testing.ts';
import { ordersOutbox } from './orders/schema.mssql.ts';
import { createOrdersStore } from './orders/store.mssql.ts';
import { createPaymentsStore } from './payments/store.mssql.ts';
import { describeStoreContract } from './store-contract.ts';

const IMAGE = 'mcr.microsoft.com/mssql/server:2022-CU14-ubuntu-22.04';
const PASSWORD = 'Orderflow_Test_1!';
const runtime = inject('containerRuntime');
if (!runtime.available) console.log(skipLine('SQL Server store suite', runtime));

describe.skipIf(!runtime.available)('SQL Server (testcontainers)', () => {
  let container: StartedMSSQLServerContainer | undefined;
  let adminUrl = '';
  beforeAll(async () => {
    container = await new MSSQLServerContainer(IMAGE).acceptLicense().withPassword(PASSWORD).start();
    adminUrl = `mssql://sa:${encodeURIComponent(PASSWORD)}@${container.getHost()}:${container.getPort()}/master?encrypt=false`;
  }, 240_000);
  afterAll(async () => {
    await container?.stop();
  });

  describe.each([
    ['READ_COMMITTED_SNAPSHOT OFF', false],
    ['READ_COMMITTED_SNAPSHOT ON', true],
  ])('%s', (label, readCommittedSnapshot) => {
    let scratch: MssqlScratchDatabase | undefined;
    const connections: MssqlDatabase[] = [];
    /** A new pool on the scratch database; closed after the suite. */
    const connect = async (maxConnections = 10): Promise<MssqlDatabase> => {
      const conn = await openMssql({ url: scratch!.url, maxConnections });
      connections.push(conn);
      return conn;
    };

    beforeAll(async () => {
      scratch = await createMssqlScratchDatabase(adminUrl, { readCommittedSnapshot });
      const [a, b] = [await connect(), await connect()];
      // Four migrators at once, from two pools: the application lock makes them apply each migration once.
      await Promise.all([
        migrate(createOrdersStore(a)),
        migrate(createPaymentsStore(a)),
        migrate(createOrdersStore(b)),
        migrate(createPaymentsStore(b)),
      ]);
    }, 120_000);
    afterAll(async () => {
      await Promise.all(connections.map((c) => c.close()));
      await scratch?.drop();
    });

    describeStoreContract(`SQL Server, ${label}`, async () => {
      const conn = await connect();
      return {
        orders: createOrdersStore(conn),
        payments: createPaymentsStore(conn),
        reset: () => resetServiceTables(conn.db),
        concurrentTransactions: true,
        close: async () => {},
      };
    });

    describe('server only', () => {
      it('recorded each migration once per service, and re-running migrate is a no-op', async () => {
        const conn = await connect(2);
        await migrate(createOrdersStore(conn));
        await migrate(createPaymentsStore(conn));
        for (const service of ['orders', 'payments']) {
          const result = await conn.db.execute<{ n: number }>(
            sql.raw(`select count(*) as n from [drizzle].[__drizzle_migrations_${service}]`),
          );
          expect(result.recordset[0]?.n).toBe(1);
        }
      });

      it('two relays on two pools racing for outbox rows never claim the same row', async () => {
        const [a, b] = [await connect(), await connect()];
        await resetServiceTables(a.db);
        const total = 300;
        const writer = createOrdersStore(a);
        await writer.transaction((tx) =>
          tx.appendOutbox(Array.from({ length: total }, () => outboxRecord())),
        );
        const relays = [createOrdersStore(a), createOrdersStore(b)];
        const claimedBy = relays.map(() => [] as bigint[]);
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

      it('claim skips rows another transaction holds locked (READPAST) instead of waiting for them', async () => {
        const [a, b] = [await connect(), await connect()];
        await resetServiceTables(a.db);
        const writer = createOrdersStore(a);
        await writer.transaction((tx) => tx.appendOutbox(Array.from({ length: 4 }, () => outboxRecord())));
        const relay = createOrdersStore(b);
        const { locked, claimed, ms } = await a.db.transaction(async (tx) => {
          const held = await tx.execute<{ id: string }>(
            sql`select top (2) ${ordersOutbox.id} from ${ordersOutbox} with (updlock, rowlock) order by ${ordersOutbox.id}`,
          );
          const started = performance.now();
          const rows = await relay.outbox.claim(10, 60_000);
          return {
            locked: held.recordset.map((r) => BigInt(r.id)),
            claimed: rows,
            ms: performance.now() - started,
          };
        });
        expect(claimed).toHaveLength(2);
        for (const row of claimed) expect(locked).not.toContain(row.id);
        expect(ms).toBeLessThan(2_000);
        expect(await relay.outbox.claim(10, 60_000)).toHaveLength(2);
      });

      it('lockOrder makes a second transaction wait until the first commits, then see its update', async () => {
        const [a, b] = [await connect(), await connect()];
        const first = createOrdersStore(a);
        const second = createOrdersStore(b);
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

      it('concurrent duplicate inserts from two pools create one row each and never throw', async () => {
        const [a, b] = [await connect(), await connect()];
        const stores = [createOrdersStore(a), createOrdersStore(b)];
        const order = newOrder();
        const results = await concurrently(16, (i) =>
          stores[i % 2]!.transaction((tx) => tx.repo.insertOrder(order)),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const eventId = crypto.randomUUID();
        const inbox = await concurrently(16, (i) =>
          stores[i % 2]!.transaction((tx) => tx.recordInbox('g', eventId)),
        );
        expect(inbox.filter(Boolean)).toHaveLength(1);
      });

      it('keys are case-sensitive like in PostgreSQL, and GUIDs are read in lower case', async () => {
        const conn = await connect(2);
        const orders = createOrdersStore(conn);
        const upper = await orders.repo.insertOrder(newOrder({ id: 'ord-CASE' }));
        const lower = await orders.repo.insertOrder(newOrder({ id: 'ord-case' }));
        expect([upper.created, lower.created]).toEqual([true, true]);
        const n = notification('ord-CASE');
        await orders.repo.insertNotification({ ...n, id: n.id.toUpperCase() });
        expect((await orders.repo.listNotifications('ord-CASE'))[0]?.id).toBe(n.id);
        await expect(orders.repo.insertOrder(newOrder({ currency: 'usd' }))).rejects.toThrow();
      });
    });
  });
});
