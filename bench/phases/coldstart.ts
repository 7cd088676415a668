/**
 * Phase 4, cold start and memory of the deployable bundle: `node main.js serve get-order` and
 * `node main.js serve process-payment` against a broker in another process and an already migrated database
 * (PGlite: a copy of a migrated data directory per start; or a scratch database on the PostgreSQL server,
 * migrated in set-up by the bundle's `migrate` job: migrations are not part of the measured start).
 * Cold start = from spawn to the first piece of real work:
 * - get-order: the first 200 on its real route, `GET /orders/<id>` of an order written in set-up;
 * - process-payment: the first event handled — one PaymentRequested is put on the topic before the spawn, and
 *   the start ends when its PaymentCompleted reaches an observer in the orchestrator (so it includes the
 *   relay's publish and one fetch: an upper bound).
 * Beside it, the first 200 from `/healthz` (stores open, topics checked, relays and consumers started). Then,
 * on the last start, RSS at that moment and after `--rss-load` seconds of load: get-order under closed-loop
 * GETs of that order, process-payment draining PaymentRequested events produced meanwhile.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { PaymentRequested } from '../../contracts/events.ts';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { createPaymentsStore } from '../../db/payments/store.pg.ts';
import { openPostgres } from '../../db/postgres/connect.ts';
import { migrate } from '../../db/postgres/migrate.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import { type Bundle, ensureBundle } from '../lib/bundle.ts';
import { type BenchDatabase, benchDatabase } from '../lib/database.ts';
import { closedLoopGets } from '../lib/load.ts';
import { NothingMeasuredError, requireAnswered } from '../lib/measured.ts';
import { startObserver } from '../lib/observer.ts';
import type { BenchOptions } from '../lib/options.ts';
import { childEnv, ROOT, rssMiB, startBrokerProcess } from '../lib/processes.ts';
import { sleep, wallMs } from '../lib/time.ts';

export interface ColdStartFigures {
  /** What ended each start (the first real work). */
  first: string;
  /** Spawn → first real work, per start. */
  runsMs: number[];
  medianMs: number;
  /** Spawn → first 200 from `/healthz`, per start. */
  healthzRunsMs: number[];
  healthzMedianMs: number;
  rssAtReadyMiB: number | undefined;
  rssAfterLoadMiB: number | undefined;
  load: string;
}

export interface ColdStartResult {
  bundle: string;
  database: string;
  getOrder: ColdStartFigures;
  processPayment: ColdStartFigures;
}

const SEED_ORDER = 'cold-1';
/** Events per second offered to process-payment while its RSS is watched. */
const PRODUCE_RATE = 500;

/** What the phase needs before it measures anything: the bundle and a migrated database with one order. */
export interface ColdStartSetUp {
  readonly bundle: Bundle;
  readonly db: BenchDatabase;
  /** PGlite: the data directories each start copies (one per service); unused with a PostgreSQL server. */
  readonly template: string;
  /** How the PGlite data directories were obtained. */
  readonly templateSource: 'prepared' | 'cached' | 'none';
  /** Drops the scratch database (the bundle and the data directories stay cached in the temp directory). */
  dispose(): Promise<void>;
}

/**
 * Builds (or reuses) the bundle and prepares the database. Nothing here is measured, so `npm run bench`
 * runs it beside the first system's start-up and waits for it before any load. The PGlite data directories
 * depend only on the migrations, PGlite and this file, so they are kept in the temp directory under a hash of
 * those and reused.
 */
export async function prepareColdStart(o: BenchOptions): Promise<ColdStartSetUp> {
  const [bundle, db] = await Promise.all([ensureBundle(o.bundle), benchDatabase(o.databaseUrl)]);
  try {
    if (db.url !== undefined) {
      await prepareDatabase(bundle.main, db, '');
      return { bundle, db, template: '', templateSource: 'none', dispose: () => db.drop() };
    }
    const cached = join(tmpdir(), `orderflow-bench-colddata-${dataKey()}`);
    if (existsSync(join(cached, 'payments', 'PG_VERSION')))
      return { bundle, db, template: cached, templateSource: 'cached', dispose: () => db.drop() };
    const temp = mkdtempSync(join(tmpdir(), 'orderflow-bench-data-'));
    await prepareDatabase(bundle.main, db, temp);
    for (const name of readdirSync(tmpdir()))
      if (name.startsWith('orderflow-bench-colddata-'))
        rmSync(join(tmpdir(), name), { recursive: true, force: true });
    try {
      renameSync(temp, cached);
    } catch {
      return { bundle, db, template: temp, templateSource: 'prepared', dispose: () => db.drop() };
    }
    return { bundle, db, template: cached, templateSource: 'prepared', dispose: () => db.drop() };
  } catch (error) {
    await db.drop();
    throw error;
  }
}

/** Hash of what the prepared PGlite data directories depend on. */
function dataKey(): string {
  const hash = createHash('sha256');
  const files = ['package-lock.json', 'bench/phases/coldstart.ts'];
  const migrations = join(ROOT, 'db/migrations/postgres');
  for (const file of readdirSync(migrations, { recursive: true }).map(String).sort())
    if (file.endsWith('.sql')) files.push(join('db/migrations/postgres', file));
  for (const file of files) hash.update(file).update(readFileSync(join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

export async function coldStartPhase(
  o: BenchOptions,
  log: (line: string) => void,
  setUp: Promise<ColdStartSetUp> = prepareColdStart(o),
): Promise<ColdStartResult> {
  const [prepared, broker] = await Promise.all([setUp, startBrokerProcess(o.partitions)]);
  const { bundle, db, template } = prepared;
  log(
    `coldstart: bundle ${bundle.main} (${bundle.source}), PGlite data directories ${prepared.templateSource}`,
  );
  try {
    const base = {
      KAFKA_BROKERS: broker.brokers.join(','),
      LOG_LEVEL: o.logLevel,
      TOPIC_PARTITIONS: String(o.partitions),
    };

    const kafka = new Kafka({ brokers: broker.brokers, clientId: 'bench-cold', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: ['payment-requests', 'payment-completed', 'payment-failed'].map((topic) => ({
        topic,
        numPartitions: o.partitions,
      })),
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const observer = await startObserver(broker.brokers, ['payment-completed', 'payment-failed']);
    try {
      const orderPath = `/orders/${SEED_ORDER}`;
      const getOrder = await coldStarts(o, bundle.main, 'get-order', base, db, template, log, {
        first: `200 on GET ${orderPath}`,
        before: async () => {},
        done: (url) => httpOk(`${url}${orderPath}`),
        load: async (url) => {
          const r = await closedLoopGets({ url, path: orderPath, connections: 16, durationS: o.rssLoadS });
          requireAnswered('coldstart get-order RSS load', r);
          return describeGetLoad(o.rssLoadS, orderPath, r);
        },
      });
      let pending = '';
      const processPayment = await coldStarts(o, bundle.main, 'process-payment', base, db, template, log, {
        first: 'its PaymentCompleted seen (event pre-loaded)',
        before: async (run) => {
          pending = `cold-pay-${run}-${Date.now()}`;
          const record = encodeEvent(
            PaymentRequested.create({ orderId: pending, amount: '50.00', currency: 'USD' }),
          );
          await producer.send({
            topic: 'payment-requests',
            messages: [{ key: record.key, value: record.value, headers: record.headers }],
          });
        },
        done: async () => observer.seen.has(pending),
        load: async () => {
          const produced = await produceFor(producer, o.rssLoadS * 1000);
          return describeEventLoad(o.rssLoadS, produced);
        },
      });
      return {
        bundle: bundle.main,
        database: o.databaseUrl === undefined ? 'PGlite data directory' : 'PostgreSQL server',
        getOrder,
        processPayment,
      };
    } finally {
      await observer.stop().catch(() => {});
      await producer.disconnect();
    }
  } finally {
    await prepared.dispose();
    await broker.stop();
  }
}

function dbEnv(db: BenchDatabase, dataDir: string): Record<string, string> {
  return db.url === undefined ? { DATA_DIR: dataDir } : { DATABASE_URL: db.url };
}

/** The RSS load of get-order, as the report prints it. */
export function describeGetLoad(
  seconds: number,
  path: string,
  r: { rps: number; requests: number; statuses: Record<string, number> },
): string {
  const others = r.requests > (r.statuses['2xx'] ?? 0) ? ` (${JSON.stringify(r.statuses)})` : '';
  return `${seconds} s of closed-loop GET ${path}, 16 connections: ${r.rps} req/s${others}`;
}

/** The RSS load of process-payment, as the report prints it. */
export function describeEventLoad(seconds: number, produced: number): string {
  return `${seconds} s of PaymentRequested events offered at ${PRODUCE_RATE}/s (${produced} events)`;
}

/** What one function's cold starts wait for. */
interface StartProbe {
  /** What ends a start, for the report. */
  first: string;
  /** Before each spawn (e.g. pre-load the event it will handle). */
  before(run: number): Promise<void>;
  /** True once the first real work is done. */
  done(url: string): Promise<boolean>;
  /** The load of the last start's RSS reading; returns its description. */
  load(url: string): Promise<string>;
}

async function coldStarts(
  o: BenchOptions,
  main: string,
  id: string,
  base: Record<string, string>,
  db: BenchDatabase,
  template: string,
  log: (line: string) => void,
  probe: StartProbe,
): Promise<ColdStartFigures> {
  const runsMs: number[] = [];
  const healthzRunsMs: number[] = [];
  let rssAtReadyMiB: number | undefined;
  let rssAfterLoadMiB: number | undefined;
  let loadText = '';
  for (let run = 1; run <= o.coldStarts; run++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'orderflow-bench-run-'));
    if (db.url === undefined) cpSync(template, dataDir, { recursive: true });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await probe.before(run);
    const started = wallMs();
    const child = spawn(process.execPath, [main, 'serve', id], {
      env: childEnv({ ...base, ...dbEnv(db, dataDir), PORT: String(port), HOST: '127.0.0.1' }),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      const times = await firstWork(url, child, probe);
      runsMs.push(Math.round(times.doneAt - started));
      healthzRunsMs.push(Math.round(times.healthyAt - started));
      if (run === o.coldStarts) {
        rssAtReadyMiB = rssMiB(child.pid!);
        loadText = await probe.load(url);
        rssAfterLoadMiB = rssMiB(child.pid!);
      }
    } finally {
      // A graceful stop lets process-payment leave its consumer group; killed, the next start's JoinGroup
      // would wait out the dead member's session timeout. The last start has no successor: killed at once.
      await terminate(child, run === o.coldStarts);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const median = (runs: number[]) => [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  log(
    `coldstart: ${id} → ${runsMs.join(', ')} ms to ${probe.first} (/healthz ${healthzRunsMs.join(', ')} ms); RSS ${rssAtReadyMiB} → ${rssAfterLoadMiB} MiB`,
  );
  return {
    first: probe.first,
    runsMs,
    medianMs: median(runsMs),
    healthzRunsMs,
    healthzMedianMs: median(healthzRunsMs),
    rssAtReadyMiB,
    rssAfterLoadMiB,
    load: loadText,
  };
}

/** Polls every 5 ms until both the first real work is done and `/healthz` answered 200; their wall times. */
async function firstWork(
  url: string,
  child: ChildProcess,
  probe: StartProbe,
): Promise<{ doneAt: number; healthyAt: number }> {
  const deadline = Date.now() + 120_000;
  let doneAt: number | undefined;
  let healthyAt: number | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before ${probe.first}`);
    const [done, healthy] = await Promise.all([
      doneAt === undefined ? probe.done(url) : true,
      healthyAt === undefined ? httpOk(`${url}/healthz`) : true,
    ]);
    const now = wallMs();
    if (done && doneAt === undefined) doneAt = now;
    if (healthy && healthyAt === undefined) healthyAt = now;
    if (doneAt !== undefined && healthyAt !== undefined) return { doneAt, healthyAt };
    await sleep(5);
  }
  throw new NothingMeasuredError(
    `no ${doneAt === undefined ? probe.first : '200 from /healthz'} within 120 s of the spawn`,
  );
}

/** True when a GET of `url` answers 200 (connection refused and other errors: false). */
function httpOk(url: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** SIGTERM (the graceful stop: consumers leave their groups), SIGKILL after 15 s; or SIGKILL at once. */
async function terminate(child: ChildProcess, kill: boolean): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(kill ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function runToEnd(main: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], {
      env: childEnv(env),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`main.js ${args.join(' ')} exited ${code}`)),
    );
  });
}

/**
 * A migrated database with one order for get-order. PostgreSQL: the bundle's own `migrate` job, then the
 * order. PGlite: a data directory made the way `serve` makes one on first start (from the cached initdb
 * dump), migrated, with the order.
 */
async function prepareDatabase(main: string, db: BenchDatabase, template: string): Promise<void> {
  const seed = { id: SEED_ORDER, amountMinor: 5000n, currency: 'USD', createdAt: new Date() };
  if (db.url !== undefined) {
    await runToEnd(main, ['migrate'], { DATABASE_URL: db.url });
    const conn = await openPostgres({ url: db.url });
    try {
      await createOrdersStore(conn.db).repo.insertOrder(seed);
    } finally {
      await conn.close();
    }
    return;
  }
  // One PGlite start instead of two: both schemas migrated into one data directory, copied for the other
  // service (each `serve` uses only its own schema; the other is an unused empty one).
  const orders = join(template, 'orders');
  const conn = await openPostgres({ dataDir: orders });
  try {
    await migrate(createOrdersStore(conn.db));
    await migrate(createPaymentsStore(conn.db));
    await createOrdersStore(conn.db).repo.insertOrder(seed);
  } finally {
    await conn.close();
  }
  cpSync(orders, join(template, 'payments'), { recursive: true });
}

async function produceFor(producer: Producer, ms: number): Promise<number> {
  const start = Date.now();
  let n = 0;
  while (Date.now() < start + ms) {
    const messages = [];
    for (let i = 0; i < PRODUCE_RATE / 10; i++, n++) {
      const record = encodeEvent(
        PaymentRequested.create({ orderId: `cold-${n}`, amount: '50.00', currency: 'USD' }),
      );
      messages.push({ key: record.key, value: record.value, headers: record.headers });
    }
    await producer.send({ topic: 'payment-requests', messages });
    await sleep(Math.max(0, start + (n / PRODUCE_RATE) * 1000 - Date.now()));
  }
  return n;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
