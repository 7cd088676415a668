/**
 * The system under test, in its own process (so the load generator never shares its event loop). The
 * orchestrator (`bench/run.ts`) starts it with `BENCH_SUT` (JSON, see {@link SutSpec}) and talks to it over
 * the IPC channel: `ready` when it serves, `sql` to read its database afterwards, `consumed` from the raw
 * consumer. Not a test, not production code.
 *
 *   system       what `npm start -- --memory` runs: embedded broker + every function + one HTTP port
 *   functions    some functions of the manifest against an outside broker (`KAFKA_BROKERS`), like `serve <id>`
 *   bare-hono    the HTTP ceiling: one Hono route on @hono/node-server doing create-order's single insert
 *   same-work-hono      the same route doing create-order's transaction: order row + outbox row, one commit
 *   raw-consumer the messaging ceiling: a plain kafkajs consumer doing one transaction per message
 *   same-work-consumer  the same consumer doing process-payment's transaction: payment + inbox + outbox rows
 * @module
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningSystem, startSystem } from '../app/system.ts';
import { PaymentCompleted, PaymentRequested } from '../contracts/events.ts';
import { createOrdersStore } from '../db/orders/store.pg.ts';
import { createPaymentsStore } from '../db/payments/store.pg.ts';
import { openPostgres, type PgDatabase } from '../db/postgres/connect.ts';
import { migrate } from '../db/postgres/migrate.ts';
import { startPgliteAutovacuum } from '../db/postgres/pglite-autovacuum.ts';
import { createTestDatabase } from '../db/postgres/test-database.ts';
import { findFunction } from '../functions/manifest.ts';
import { startLocalBroker } from '../local/local-broker.ts';
import { encodeEvent } from '../runtime/codec.ts';
import { type Config, loadConfig } from '../runtime/config.ts';
import type { AnyFunction } from '../runtime/define.ts';
import { createLogger } from '../runtime/logger.ts';
import type { SutMessage, SutRequest, SutSpec } from './lib/sut-protocol.ts';
import { wallMs } from './lib/time.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const spec = JSON.parse(process.env.BENCH_SUT ?? '{}') as SutSpec;
const send = (message: SutMessage) => {
  if (message.type === 'ready') startProfiling();
  process.send?.(message);
};

/**
 * BENCH_PROFILE_DIR=<dir>: a V8 CPU profile of this process from ready to stop (start-up left out), written
 * to `<dir>/<mode>-<pid>.cpuprofile` for Chrome DevTools or speedscope.
 */
const profiler = process.env.BENCH_PROFILE_DIR ? new Session() : undefined;
function startProfiling(): void {
  if (profiler === undefined) return;
  profiler.connect();
  profiler.post('Profiler.enable', () => profiler.post('Profiler.start'));
}
async function stopProfiling(): Promise<void> {
  if (profiler === undefined) return;
  await new Promise<void>((resolve) =>
    profiler.post('Profiler.stop', (error, result) => {
      if (!error) {
        const file = join(process.env.BENCH_PROFILE_DIR!, `${spec.mode}-${process.pid}.cpuprofile`);
        writeFileSync(file, JSON.stringify(result.profile));
      }
      resolve();
    }),
  );
}

/** The database the SUT queries for the orchestrator (`sql` without a service). */
let database: PgDatabase | undefined;
/** Each service's database, when the system has several (`sql` with a service). */
let databases: Partial<Record<'orders' | 'payments', PgDatabase>> = {};
let stop: () => Promise<void> = async () => {};
/** `raw-consumer` with `deferConsume`: starts the consumer. */
let consumeRequested: (brokers: readonly string[]) => void = () => {};

process.on('message', (raw: SutRequest) => {
  if (raw.type === 'sql') {
    void (async () => {
      try {
        const db = (raw.service === undefined ? undefined : databases[raw.service]) ?? database!;
        const result = (await db.execute(sql.raw(raw.text))) as unknown as { rows: unknown[] };
        send({ type: 'sql-result', id: raw.id, rows: result.rows });
      } catch (error) {
        send({ type: 'sql-result', id: raw.id, error: String(error) });
      }
    })();
  } else if (raw.type === 'consume') {
    consumeRequested(raw.brokers);
  } else if (raw.type === 'stop') {
    void stopProfiling()
      .then(stop)
      .finally(() => process.exit(0));
  }
});
process.on('disconnect', () => void stop().finally(() => process.exit(0)));

function config(extra: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: 'memory://',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: spec.logLevel,
    TOPIC_PARTITIONS: String(spec.partitions),
    ...(spec.databaseUrl === undefined ? {} : { DATABASE_URL: spec.databaseUrl }),
    ...extra,
  });
}

/** Like `local/start.ts`: the embedded broker in a worker thread of its own, then the system. */
async function startAllInOne(): Promise<void> {
  const cfg = config();
  const logger = createLogger({ level: cfg.logLevel, name: 'orderflow' });
  const broker = await startLocalBroker({ port: 0, partitions: cfg.topicPartitions, logger, thread: true });
  const system = await startSystem({
    config: cfg,
    functions: functionsOf(spec.functions),
    brokers: broker.brokers,
    logger,
  });
  await system.host.ready;
  useSystem(system, async () => broker.stop());
  send({ type: 'ready', url: system.host.url!, brokers: broker.brokers });
}

/** Like `node dist/main.js serve <ids…>`, from source. */
async function startFunctions(): Promise<void> {
  const cfg = config({ KAFKA_BROKERS: spec.brokers!.join(',') });
  const logger = createLogger({ level: cfg.logLevel, name: 'orderflow' });
  const system = await startSystem({
    config: cfg,
    functions: functionsOf(spec.functions),
    brokers: spec.brokers!,
    logger,
  });
  await system.host.ready;
  useSystem(system, async () => {});
  send({ type: 'ready', url: system.host.url!, brokers: spec.brokers! });
}

function useSystem(system: RunningSystem, after: () => Promise<void>): void {
  const dbOf = (service: string) => (system.stores[service] as unknown as { db: PgDatabase } | undefined)?.db;
  databases = {
    ...(dbOf('orders') === undefined ? {} : { orders: dbOf('orders') }),
    ...(dbOf('payments') === undefined ? {} : { payments: dbOf('payments') }),
  };
  database = databases.orders ?? databases.payments;
  stop = async () => {
    await system.stop();
    await after();
  };
}

function functionsOf(ids: readonly string[] | undefined): AnyFunction[] {
  return (
    ids ?? [
      'create-order',
      'get-order',
      'process-payment',
      'apply-payment-result',
      'ship-order',
      'notify-payment-failed',
    ]
  ).map((id) => findFunction(id) ?? fail(`unknown function ${id}`));
}

/** A migrated database with the service's schema, opened the way the system opens it. */
async function openMigrated(
  service: 'orders' | 'payments',
): Promise<{ db: PgDatabase; close(): Promise<void> }> {
  if (spec.databaseUrl === undefined) {
    // PGlite in memory, loaded from the migrated template the tests use (~1 s instead of initdb's 3–5 s; the
    // database is the same), with the autovacuum substitute the system's own PGlite gets.
    const t = await createTestDatabase();
    const autovacuum = startPgliteAutovacuum(t.db);
    database = t.db;
    return {
      db: t.db,
      async close() {
        await autovacuum.stop();
        await t.close();
      },
    };
  }
  const conn = await openPostgres({ url: spec.databaseUrl });
  const store = service === 'orders' ? createOrdersStore(conn.db) : createPaymentsStore(conn.db);
  await migrate(store);
  database = conn.db;
  return conn;
}

/**
 * The HTTP ceilings, on the same route and server: parse the JSON body, then
 * - bare (`sameWork` false): one INSERT of the order row create-order writes (the SQL drizzle generates for
 *   `insertOrder`), no transaction;
 * - same work (`sameWork` true): create-order's transaction — that INSERT and, for a new order, its outbox row
 *   (the PaymentRequested event encoded as the runtime encodes it), one commit;
 * answer 201 with JSON. No validation, logging, idempotency keys, relay or runtime.
 */
async function startHonoCeiling(sameWork: boolean): Promise<void> {
  const conn = await openMigrated('orders');
  const insertOrder = (db: PgDatabase, id: string, minor: bigint, now: Date) =>
    db.execute(
      sql`insert into "orders"."orders" ("id", "amount_minor", "currency", "status", "payment_status", "failure_reason", "created_at", "updated_at")
          values (${id}, ${minor}, 'USD', 'PENDING', 'NOT_PAID', null, ${now}, ${now})
          on conflict ("id") do nothing returning *`,
    ) as unknown as Promise<{ rows: unknown[] }>;
  const app = new Hono();
  app.post('/orders', async (c) => {
    const body = (await c.req.json()) as { orderId: string; amount: number };
    const now = new Date();
    const minor = BigInt(Math.round(body.amount * 100));
    const created = sameWork
      ? await conn.db.transaction(async (tx) => {
          const result = await insertOrder(tx as unknown as PgDatabase, body.orderId, minor, now);
          if (result.rows.length === 0) return 0;
          const event = PaymentRequested.create(
            { orderId: body.orderId, amount: decimal(minor), currency: 'USD' },
            { time: now },
          );
          await insertOutbox(tx as unknown as PgDatabase, 'orders', encodeEvent(event));
          return 1;
        })
      : (await insertOrder(conn.db, body.orderId, minor, now)).rows.length;
    return c.json({ status: 'success', orderId: body.orderId, created }, 201);
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address() as { port: number };
  stop = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await conn.close();
  };
  send({ type: 'ready', url: `http://127.0.0.1:${address.port}` });
}

/** An outbox row as `appendOutbox` writes it (the relay's other columns keep their defaults). */
function insertOutbox(
  db: PgDatabase,
  schema: 'orders' | 'payments',
  record: ReturnType<typeof encodeEvent>,
): Promise<unknown> {
  return db.execute(
    sql`insert into ${sql.identifier(schema)}."outbox" ("event_id", "topic", "key", "value", "headers")
        values (${record.eventId}, ${record.topic}, ${record.key}, ${record.value}, ${JSON.stringify(record.headers)}::jsonb)`,
  );
}

/** Minor units of a 2-digit currency as the events' decimal string (5000n → "50.00"). */
function decimal(minor: bigint): string {
  return `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;
}

/**
 * The messaging ceilings: kafkajs `eachMessage` on `payment-requests` (one message at a time per partition,
 * `partitionsConsumedConcurrently` 1 unless the spec says otherwise; kafkajs' default offset commits, once
 * after each fetched batch), JSON.parse, then one transaction per message:
 * - bare (`sameWork` false): the payment row process-payment would insert;
 * - same work (`sameWork` true): process-payment's transaction — the inbox row (consumer `payments`, the
 *   event id; a repeat is skipped), the payment row, and its PaymentCompleted outbox row, one commit.
 * No validation, logs, attempt records, retries, dead-lettering, relay or runtime.
 */
async function startConsumerCeiling(sameWork: boolean): Promise<void> {
  const conn = await openMigrated('payments');
  let consumer: ReturnType<Kafka['consumer']> | undefined;
  stop = async () => {
    await consumer?.disconnect();
    await conn.close();
  };
  const consume = async (brokers: readonly string[]) => {
    const kafka = new Kafka({ brokers: [...brokers], clientId: 'bench-raw', logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: sameWork ? 'bench-same-work-payments' : 'bench-raw-payments' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'payment-requests', fromBeginning: true });
    let count = 0;
    let first = 0;
    let last = 0;
    let reported = false;
    const expected = spec.expectedMessages ?? Number.POSITIVE_INFINITY;
    const report = () => {
      if (reported) return;
      reported = true;
      send({ type: 'consumed', count, firstMs: first, lastMs: last });
    };
    await consumer.run({
      partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? 1,
      eachMessage: async ({ message }) => {
        if (first === 0) {
          first = wallMs();
          if (spec.limitMs !== undefined) setTimeout(report, spec.limitMs).unref();
        }
        const event = JSON.parse(message.value!.toString()) as {
          id: string;
          data: { orderId: string; amount: string };
        };
        const minor = BigInt(event.data.amount.replace('.', ''));
        await conn.db.transaction(async (tx) => {
          const db = tx as unknown as PgDatabase;
          if (sameWork) {
            const fresh = (await db.execute(
              sql`insert into "payments"."inbox" ("consumer", "event_id") values ('payments', ${event.id})
                  on conflict ("consumer", "event_id") do nothing returning "consumer"`,
            )) as unknown as { rows: unknown[] };
            if (fresh.rows.length === 0) return;
          }
          const paymentId = randomUUID();
          const now = new Date();
          const inserted = (await db.execute(
            sql`insert into "payments"."payments" ("id", "order_id", "amount_minor", "currency", "status", "failure_reason", "provider_ref", "created_at")
                values (${paymentId}, ${event.data.orderId}, ${minor}, 'USD', 'COMPLETED', null, null, ${now})
                on conflict ("order_id") do nothing returning *`,
          )) as unknown as { rows: unknown[] };
          if (!sameWork || inserted.rows.length === 0) return;
          const completed = PaymentCompleted.create(
            { orderId: event.data.orderId, paymentId, amount: event.data.amount, currency: 'USD' },
            { time: now },
          );
          await insertOutbox(db, 'payments', encodeEvent(completed));
        });
        count += 1;
        last = wallMs();
        if (count === expected) report();
      },
    });
  };
  if (spec.deferConsume) {
    consumeRequested = (brokers) =>
      void consume(brokers).catch((error: unknown) => {
        process.stderr.write(
          `raw consumer failed: ${error instanceof Error ? error.stack : String(error)}\n`,
        );
        process.exit(1);
      });
  } else {
    await consume(spec.brokers!);
  }
  send({ type: 'ready' });
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const starters: Record<SutSpec['mode'], () => Promise<void>> = {
  system: startAllInOne,
  functions: startFunctions,
  'bare-hono': () => startHonoCeiling(false),
  'same-work-hono': () => startHonoCeiling(true),
  'raw-consumer': () => startConsumerCeiling(false),
  'same-work-consumer': () => startConsumerCeiling(true),
};

starters[spec.mode]().catch((error: unknown) => {
  process.stderr.write(
    `bench sut (${spec.mode}) failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
