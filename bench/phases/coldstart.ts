/**
 * Phase 4, cold start and memory of the deployable bundle: `node main.js serve get-order` and
 * `node main.js serve process-payment` against a broker in another process and an already migrated database
 * (PGlite: a copy of a migrated data directory per start; or a PostgreSQL server). Cold start = from spawn to
 * the first 200 from `/healthz` (served once stores are open, topics checked, relays and consumers started).
 * Then, on the last start, RSS at that moment and after `--rss-load` seconds of load: get-order under
 * closed-loop GETs of one order, process-payment draining PaymentRequested events produced meanwhile.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { PaymentRequested } from '../../contracts/events.ts';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { createPaymentsStore } from '../../db/payments/store.pg.ts';
import { openPostgres } from '../../db/postgres/connect.ts';
import { migrate } from '../../db/postgres/migrate.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import { ensureBundle } from '../lib/bundle.ts';
import { type BenchDatabase, benchDatabase } from '../lib/database.ts';
import { closedLoopGets } from '../lib/load.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type BrokerProcess, rssMiB, startBrokerProcess } from '../lib/processes.ts';
import { sleep, wallMs } from '../lib/time.ts';

export interface ColdStartFigures {
  runsMs: number[];
  medianMs: number;
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
  readonly bundle: { main: string; built: boolean };
  readonly db: BenchDatabase;
  /** PGlite: the data directories each start copies (one per service); unused with a PostgreSQL server. */
  readonly template: string;
  /** Removes the bundle built here, the data directories and the scratch database. */
  dispose(): Promise<void>;
}

/**
 * Builds the bundle and prepares the database. Nothing here is measured, so `npm run bench` runs it beside
 * the first system's start-up and waits for it before any load.
 */
export async function prepareColdStart(o: BenchOptions): Promise<ColdStartSetUp> {
  const template = mkdtempSync(join(tmpdir(), 'orderflow-bench-data-'));
  const [bundle, db] = await Promise.all([ensureBundle(o.bundle), benchDatabase(o.databaseUrl)]);
  const dispose = async () => {
    rmSync(template, { recursive: true, force: true });
    if (bundle.built) rmSync(dirname(bundle.main), { recursive: true, force: true });
    await db.drop();
  };
  try {
    await prepareDatabase(bundle.main, db, template);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { bundle, db, template, dispose };
}

export async function coldStartPhase(
  o: BenchOptions,
  log: (line: string) => void,
  setUp: Promise<ColdStartSetUp> = prepareColdStart(o),
): Promise<ColdStartResult> {
  const [prepared, broker] = await Promise.all([setUp, startBrokerProcess(o.partitions)]);
  const { bundle, db, template } = prepared;
  log(`coldstart: bundle ${bundle.main}${bundle.built ? ' (built by scripts/build.ts)' : ''}`);
  try {
    const base = {
      KAFKA_BROKERS: broker.brokers.join(','),
      LOG_LEVEL: o.logLevel,
      TOPIC_PARTITIONS: String(o.partitions),
    };

    const getOrder = await coldStarts(o, bundle.main, 'get-order', base, db, template, log, async (url) => {
      const r = await closedLoopGets({
        url,
        path: `/orders/${SEED_ORDER}`,
        connections: 16,
        durationS: o.rssLoadS,
      });
      return `${o.rssLoadS} s of closed-loop GET /orders/:id, 16 connections: ${r.rps} req/s`;
    });
    const processPayment = await coldStarts(
      o,
      bundle.main,
      'process-payment',
      base,
      db,
      template,
      log,
      async () => {
        const produced = await produceFor(broker, o.rssLoadS * 1000);
        return `${o.rssLoadS} s of PaymentRequested events offered at ${PRODUCE_RATE}/s (${produced} events)`;
      },
    );
    return {
      bundle: bundle.main,
      database: o.databaseUrl === undefined ? 'PGlite data directory' : 'PostgreSQL server',
      getOrder,
      processPayment,
    };
  } finally {
    await prepared.dispose();
    await broker.stop();
  }
}

function dbEnv(db: BenchDatabase, dataDir: string): Record<string, string> {
  return db.url === undefined ? { DATA_DIR: dataDir } : { DATABASE_URL: db.url };
}

async function coldStarts(
  o: BenchOptions,
  main: string,
  id: string,
  base: Record<string, string>,
  db: BenchDatabase,
  template: string,
  log: (line: string) => void,
  load: (url: string) => Promise<string>,
): Promise<ColdStartFigures> {
  const runsMs: number[] = [];
  let rssAtReadyMiB: number | undefined;
  let rssAfterLoadMiB: number | undefined;
  let loadText = '';
  for (let run = 1; run <= o.coldStarts; run++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'orderflow-bench-run-'));
    if (db.url === undefined) cpSync(template, dataDir, { recursive: true });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const started = wallMs();
    const child = spawn(process.execPath, [main, 'serve', id], {
      env: { ...process.env, ...base, ...dbEnv(db, dataDir), PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      await firstHealthy(url, child);
      runsMs.push(Math.round(wallMs() - started));
      if (run === o.coldStarts) {
        rssAtReadyMiB = rssMiB(child.pid!);
        loadText = await load(url);
        rssAfterLoadMiB = rssMiB(child.pid!);
      }
    } finally {
      // A graceful stop lets process-payment leave its consumer group; killed, the next start's JoinGroup
      // would wait out the dead member's session timeout. The last start has no successor: killed at once.
      await terminate(child, run === o.coldStarts);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  log(`coldstart: ${id} → ${sorted.join(', ')} ms; RSS ${rssAtReadyMiB} → ${rssAfterLoadMiB} MiB`);
  return {
    runsMs,
    medianMs: sorted[Math.floor(sorted.length / 2)]!,
    rssAtReadyMiB,
    rssAfterLoadMiB,
    load: loadText,
  };
}

async function firstHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`process exited (${child.exitCode}) before /healthz answered`);
    const status = await new Promise<number>((resolve) => {
      const req = get(`${url}/healthz`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
    });
    if (status === 200) return;
    await sleep(5);
  }
  throw new Error('no 200 from /healthz within 120 s');
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
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`main.js ${args.join(' ')} exited ${code}`)),
    );
  });
}

/**
 * A migrated database with one order for get-order. PostgreSQL: the bundle's own \`migrate\` job, then the
 * order. PGlite: a data directory made the way \`serve\` makes one on first start (from the cached initdb
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
  // service (each \`serve\` uses only its own schema; the other is an unused empty one).
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

async function produceFor(broker: BrokerProcess, ms: number): Promise<number> {
  const kafka = new Kafka({
    brokers: broker.brokers,
    clientId: 'bench-cold-load',
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
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
  await producer.disconnect();
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
