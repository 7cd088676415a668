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
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { PaymentRequested } from '../../contracts/events.ts';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { createPaymentsStore } from '../../db/payments/store.pg.ts';
import { openPostgres } from '../../db/postgres/connect.ts';
import { migrate } from '../../db/postgres/migrate.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import { type Bundle, ensureBundle } from '../lib/bundle.ts';
import { type BenchDatabase, benchDatabase } from '../lib/database.ts';
import { closedLoopGets } from '../lib/load.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type BrokerProcess, ROOT, rssMiB, startBrokerProcess } from '../lib/processes.ts';
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

    const getOrder = await coldStarts(o, bundle.main, 'get-order', base, db, template, log, async (url) => {
      const _r = await closedLoopGets({
        url,
        path: `/orders/$SEED_ORDER`,
        connections: 16,
        durationS: o.rssLoadS,
      });
      return `$o.rssLoadSs of closed-loop GET /orders/:id, 16 connections: $r.rpsreq/s`;
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
        return `$o.rssLoadSs of PaymentRequested events offered at $PRODUCE_RATE/s (${produced} events)`;
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
