/**
 * One chaos run: the system as separate processes the way it is deployed (the broker with a data directory,
 * `migrate` and `topics` as one-shot jobs, one process per function through the container entry point, two
 * replicas of each event function), a PostgreSQL database of its own behind a TCP proxy, a fake payment
 * provider over HTTP; a steady load of orders; faults on a seeded schedule; then the invariants. See README.md.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { manifest } from '../functions/manifest.ts';
import { CONFIG_VARIABLES } from '../runtime/config.ts';
import { type FakeProvider, startFakeProvider } from './fake-provider.ts';
import { checkOrders, type DeadLetters, type OrderCheck, readDeadLetters } from './invariants.ts';
import { type LoadResult, startLoad } from './load.ts';
import type { ChaosOptions } from './options.ts';
import { STREAMS, seededRandom } from './random.ts';
import { type Kill, killSchedule, killsByKind, type Target } from './schedule.ts';
import { createSlot, type Restart, type Slot, type SlotSpec } from './supervisor.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export const ROOT = join(import.meta.dirname, '..');
const PROVIDER_LIMIT = '300';

export interface ChaosFigures {
  scenario: string;
  seed: number;
  durationS: number;
  rate: number;
  sessionTimeoutMs: number | undefined;
  heartbeatIntervalMs: number | undefined;
  started: number;
  load: LoadResult;
  orders: OrderCheck;
  deadLetters: DeadLetters;
  /** From the quiet point (load acknowledged, every process back) until every invariant held; undefined = never. */
  settleMs: number | undefined;
  kills: Kill[];
  killsByKind: Record<string, number>;
  restarts: Restart[];
  /** Longest restart → handling again, and whose; restarts that never handled again (not killed before). */
  restartGap: {
    maxMs: number | undefined;
    slot: string | undefined;
    unmeasured: number;
    maxJoinMs: number | undefined;
  };
  provider: ReturnType<FakeProvider['stats']>;
  /** Orders the provider approved (money taken) whose payment is not COMPLETED in the database. */
  providerOrphans: number;
  /** get-order probe: GETs answered 2xx / failed. */
  probe: { ok: number; failed: number };
  outage: { startedAtS: number; endedAtS: number; target: string } | undefined;
  logDir: string;
}

export interface ChaosReport {
  pass: boolean;
  /** The one summary line. */
  summary: string;
  /** What failed, with examples; empty on a pass. */
  findings: string[];
  figures: ChaosFigures;
}

/** Runs a chaos scenario end to end; `progress` gets human-readable lines as it goes. */
export async function runChaos(
  options: ChaosOptions,
  progress: (line: string) => void,
): Promise<ChaosReport> {
  const work = mkdtempSync(join(tmpdir(), `orderflow-chaos-${options.scenario}-${options.seed}-`));
  const logDir = options.logDir ?? join(work, 'logs');
  mkdirSync(logDir, { recursive: true });
  const cleanups: Array<() => Promise<unknown>> = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () => {
    cleaned ??= (async () => {
      for (const fn of cleanups.reverse())
        await fn().catch((error: unknown) => progress(`cleanup: ${String(error)}`));
      rmSync(join(work, 'kafka'), { recursive: true, force: true });
    })();
    return cleaned;
  };
  // Ctrl-C or a SIGTERM mid-run: still kill the processes and drop the database.
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`chaos: ${signal}: stopping the processes and dropping the database`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    progress(`chaos: scenario ${options.scenario}, seed ${options.seed}, logs in ${logDir}`);
    const database = await createDatabase(options.databaseUrl);
    if (!options.keepDatabase) cleanups.push(() => database.drop());
    else progress(`chaos: database ${database.name} is kept (--keep-database)`);
    const admin = new URL(options.databaseUrl);
    const target = { targetHost: admin.hostname, targetPort: Number(admin.port || 5432) };
    // One proxy per service (each service has its own database in production): an outage can take one or both.
    const proxies: Record<'orders' | 'payments', TcpProxy> = {
      orders: await startTcpProxy({ ...target, port: await freePort() }),
      payments: await startTcpProxy({ ...target, port: await freePort() }),
    };
    cleanups.push(() => Promise.all(Object.values(proxies).map((p) => p.close())));
    const cutProxies = Object.entries(proxies)
      .filter(([service]) => options.outageTarget === 'all' || options.outageTarget === service)
      .map(([, proxy]) => proxy);
    const provider = await startFakeProvider({
      limit: PROVIDER_LIMIT,
      random: seededRandom(options.seed, STREAMS.provider),
    });
    cleanups.push(() => provider.close());

    const viaProxy = (proxy: TcpProxy) => {
      const url = new URL(database.url);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      return url.toString();
    };
    const brokerPort = await freePort();
    const brokers = [`127.0.0.1:${brokerPort}`];
    const env = functionEnv({
      KAFKA_BROKERS: brokers.join(','),
      // The orders service uses DATABASE_URL; the payments service its own URL, to the same database.
      DATABASE_URL: viaProxy(proxies.orders),
      PAYMENTS_DATABASE_URL: viaProxy(proxies.payments),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      TOPIC_PARTITIONS: String(options.partitions),
      PAYMENT_PROVIDER_URL: provider.url,
      ...(options.sessionTimeoutMs === undefined
        ? {}
        : { KAFKA_SESSION_TIMEOUT_MS: String(options.sessionTimeoutMs) }),
      ...(options.heartbeatIntervalMs === undefined
        ? {}
        : { KAFKA_HEARTBEAT_INTERVAL_MS: String(options.heartbeatIntervalMs) }),
    });

    const broker = createSlot(
      {
        name: 'broker',
        kind: 'broker',
        args: [
          '--import',
          'tsx',
          'local/kafka-broker/cli.ts',
          '--port',
          String(brokerPort),
          '--data-dir',
          join(work, 'kafka'),
          '--partitions',
          String(options.partitions),
        ],
        env: functionEnv({}),
        cwd: ROOT,
        readyLine: /kafka broker listening on/,
      },
      logDir,
    );
    const slots: Slot[] = [broker];
    cleanups.push(() => Promise.all(slots.map((s) => s.dispose())));
    await broker.start();
    progress(
      `chaos: broker on ${brokers[0]}, database ${database.name} through proxies :${proxies.orders.port} (orders) :${proxies.payments.port} (payments)`,
    );
    for (const job of ['migrate', 'topics']) await runJob(job, env, logDir);

    const functionSlots: Slot[] = [];
    for (const fn of manifest) {
      const replicas = fn.kind === 'event' ? options.replicas : 1;
      for (let i = 1; i <= replicas; i++) {
        const spec: SlotSpec = {
          name: `${fn.id}#${i}`,
          kind: fn.id,
          args: ['--import', 'tsx', 'app/main.ts', 'serve', fn.id],
          env: { ...env, PORT: String(await freePort()) },
          cwd: ROOT,
          readyLine: /"msg":"serving"/,
        };
        functionSlots.push(createSlot(spec, logDir));
      }
    }
    slots.push(...functionSlots);
    await Promise.all(functionSlots.map((s) => s.start()));
    await Promise.all(functionSlots.map((s) => waitReady(s)));
    const urlOf = (kind: string) =>
      `http://127.0.0.1:${functionSlots.find((s) => s.spec.kind === kind)!.spec.env.PORT}`;
    progress(
      `chaos: ${functionSlots.length} function processes ready; load ${options.rate} orders/s for ${options.durationS} s`,
    );

    // Faults.
    const durationMs = options.durationS * 1000;
    const targets: Target[] = slots.map((s) => ({ name: s.spec.name, kind: s.spec.kind }));
    const kills =
      options.scenario === 'kills'
        ? killSchedule({
            seed: options.seed,
            durationMs,
            targets,
            meanIntervalMs: options.killEveryS * 1000,
            minPauseMs: 500,
            maxPauseMs: options.maxPauseS * 1000,
            quietStartMs: Math.min(5_000, durationMs / 10),
            quietEndMs: options.maxPauseS * 1000 + 5_000,
          })
        : [];
    const restarts: Restart[] = [];
    // A broker restart counts as handled again once every event function (some replica of each) handled an event.
    const eventKinds = manifest.filter((fn) => fn.kind === 'event').map((fn) => fn.id);
    const brokerRestarts: { restart: Restart; waiting: Set<string> }[] = [];
    for (const slot of functionSlots) {
      if (!eventKinds.includes(slot.spec.kind)) continue;
      slot.onHandled = (handledAt) => {
        for (const { restart, waiting } of brokerRestarts) {
          if (restart.handledAt !== undefined || restart.interrupted || handledAt <= restart.at) continue;
          waiting.delete(slot.spec.kind);
          if (waiting.size === 0) restart.handledAt = handledAt;
        }
      };
    }

    const load = startLoad({
      url: urlOf('create-order'),
      rate: options.rate,
      random: seededRandom(options.seed, STREAMS.orders),
      idPrefix: `chaos-${options.seed}`,
    });
    const t0 = performance.now();
    const at = (ms: number) => sleep(Math.max(0, t0 + ms - performance.now()));
    const probe = startProbe(urlOf('get-order'), () => load.lastAcked());
    // One slot's kill and restart never overlap its next kill (a late restart delays that kill instead).
    const busy = new Map<string, Promise<void>>();
    const faults: Promise<void>[] = kills.map(async (kill) => {
      await at(kill.atMs);
      const slot = slots.find((s) => s.spec.name === kill.target)!;
      const action = (busy.get(kill.target) ?? Promise.resolve()).then(async () => {
        await slot.kill();
        const when = ((performance.now() - t0) / 1000).toFixed(1);
        progress(`chaos: +${when} s SIGKILL ${kill.target}, back in ${kill.pauseMs} ms`);
        await sleep(kill.pauseMs);
        const restart = slot.restart();
        restarts.push(restart);
        if (slot.spec.kind === 'broker') brokerRestarts.push({ restart, waiting: new Set(eventKinds) });
      });
      busy.set(kill.target, action);
      await action;
    });
    let outage: ChaosFigures['outage'];
    if (options.scenario !== 'kills') {
      faults.push(
        (async () => {
          await at(options.outageAtS * 1000);
          const started = performance.now();
          if (options.scenario === 'db-outage') await Promise.all(cutProxies.map((p) => p.cut()));
          else provider.setFaulty(true);
          const what =
            options.scenario === 'db-outage' ? `db-outage (${options.outageTarget})` : options.scenario;
          progress(`chaos: +${options.outageAtS} s ${what} for ${options.outageS} s`);
          await sleep(options.outageS * 1000);
          if (options.scenario === 'db-outage') await Promise.all(cutProxies.map((p) => p.restore()));
          else provider.setFaulty(false);
          outage = {
            startedAtS: (started - t0) / 1000,
            endedAtS: (performance.now() - t0) / 1000,
            target: options.scenario === 'db-outage' ? options.outageTarget : 'provider',
          };
          progress(`chaos: +${outage.endedAtS.toFixed(1)} s ${options.scenario} over`);
        })(),
      );
    }
    await at(durationMs);
    const stopped = load.stop(options.settleTimeoutS * 1000);
    await Promise.all(faults);
    // The quiet point: no new orders, every fault over (the last restart spawned). Settling is timed from here.
    const quiet = performance.now();
    const loadResult = await stopped;
    progress(
      `chaos: load over: ${loadResult.acked.length}/${loadResult.started} acknowledged, ${kills.length} kills; settling`,
    );

    // Settle, then check.
    const acked = new Map(loadResult.acked.map((o) => [o.orderId, o.amount]));
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    cleanups.push(() => pool.end());
    const stallMs = Math.max(45_000, (options.sessionTimeoutMs ?? 30_000) * 1.5 + 15_000);
    let orders = await checkOrders(pool, acked, PROVIDER_LIMIT);
    let settleMs: number | undefined;
    let lastChange = performance.now();
    let fingerprint = '';
    for (;;) {
      if (isSettled(orders)) {
        settleMs = performance.now() - quiet;
        break;
      }
      const now = performance.now();
      const print = `${orders.terminal}/${orders.outboxLeft}/${orders.missingPayments}/${orders.mismatches}/${orders.missingNotifications}/${orders.strayNotTerminal}`;
      if (print !== fingerprint) {
        fingerprint = print;
        lastChange = now;
      }
      if (now - quiet > options.settleTimeoutS * 1000 || now - lastChange > stallMs) break;
      await sleep(250);
      orders = await checkOrders(pool, acked, PROVIDER_LIMIT);
    }
    probe.stop();
    const deadLetters = await readDeadLetters(brokers);
    const approved = provider.approvedOrders();
    const completed = new Set(
      (
        await pool.query<{ order_id: string }>(
          `select order_id from payments.payments where status = 'COMPLETED'`,
        )
      ).rows.map((r) => r.order_id),
    );
    const figures: ChaosFigures = {
      scenario: options.scenario,
      seed: options.seed,
      durationS: options.durationS,
      rate: options.rate,
      sessionTimeoutMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      started: loadResult.started,
      load: loadResult,
      orders,
      deadLetters,
      settleMs,
      kills,
      killsByKind: killsByKind(kills, targets),
      restarts,
      restartGap: restartGap(restarts),
      provider: provider.stats(),
      providerOrphans: approved.filter((id) => !completed.has(id)).length,
      probe: probe.counts(),
      outage,
      logDir,
    };
    for (const r of restarts) {
      const gap = (t: number | undefined) =>
        t === undefined ? 'never' : `${((t - r.at) / 1000).toFixed(1)} s`;
      progress(
        `chaos: restart of ${r.slot}: handled after ${gap(r.handledAt)}, joined with partitions after ${gap(r.joinedAt)}${r.interrupted ? ' (killed again first)' : ''}`,
      );
    }
    return report(figures);
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function isSettled(o: OrderCheck): boolean {
  return (
    o.terminal === o.acked &&
    o.lost === 0 &&
    o.missingPayments === 0 &&
    o.mismatches === 0 &&
    o.missingNotifications === 0 &&
    o.strayNotTerminal === 0 &&
    o.outboxLeft === 0
  );
}

function restartGap(restarts: readonly Restart[]): ChaosFigures['restartGap'] {
  let maxMs: number | undefined;
  let slot: string | undefined;
  let maxJoinMs: number | undefined;
  let unmeasured = 0;
  for (const r of restarts) {
    if (r.joinedAt !== undefined) maxJoinMs = Math.max(maxJoinMs ?? 0, r.joinedAt - r.at);
    if (r.handledAt === undefined) {
      if (!r.interrupted) unmeasured += 1;
      continue;
    }
    const gap = r.handledAt - r.at;
    if (maxMs === undefined || gap > maxMs) {
      maxMs = gap;
      slot = r.slot;
    }
  }
  return { maxMs, slot, unmeasured, maxJoinMs };
}

/** The summary line and the findings. */
export function report(f: ChaosFigures): ChaosReport {
  const o = f.orders;
  const findings: string[] = [];
  const fail = (condition: boolean, text: string, examples?: string[]) => {
    if (condition) findings.push(examples?.length ? `${text}: ${examples.join('; ')}` : text);
  };
  fail(
    o.terminal !== o.acked,
    `${o.acked - o.terminal} acknowledged orders not terminal`,
    o.examples['not-terminal'],
  );
  fail(o.lost > 0, `${o.lost} acknowledged orders not in the database`, o.examples.lost);
  fail(
    o.duplicatePayments > 0,
    `${o.duplicatePayments} orders with duplicate payments`,
    o.examples['duplicate-payment'],
  );
  fail(
    o.missingPayments > 0,
    `${o.missingPayments} acknowledged orders without a payment`,
    o.examples['missing-payment'],
  );
  fail(o.mismatches > 0, `${o.mismatches} status mismatches`, o.examples.mismatch);
  fail(
    o.missingNotifications > 0,
    `${o.missingNotifications} cancelled orders not notified`,
    o.examples['missing-notification'],
  );
  fail(
    o.strayNotTerminal > 0,
    `${o.strayNotTerminal} unacknowledged orders in the database not terminal`,
    o.examples.stray,
  );
  fail(o.outboxLeft > 0, `${o.outboxLeft} outbox rows left unpublished`);
  fail(
    f.deadLetters.total > 0,
    `${f.deadLetters.total} dead letters ${JSON.stringify(f.deadLetters.byTopic)}`,
    f.deadLetters.reasons.slice(0, 8),
  );
  fail(
    f.load.unacked.length > 0,
    `${f.load.unacked.length} orders never acknowledged`,
    f.load.unacked.slice(0, 5).map((u) => u.orderId),
  );
  fail(
    f.load.rejected.length > 0,
    `${f.load.rejected.length} POSTs rejected (4xx)`,
    f.load.rejected.slice(0, 5).map((r) => `${r.orderId} ${r.status} ${r.body}`),
  );
  fail(
    f.providerOrphans > 0,
    `${f.providerOrphans} orders charged by the provider without a COMPLETED payment`,
  );
  fail(f.settleMs === undefined, 'did not settle');
  const seconds = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)}s`);
  const kinds = Object.entries(f.killsByKind)
    .filter(([kind, n]) => n > 0 || kind === 'broker')
    .map(([kind, n]) => `${kind}:${n}`)
    .join(',');
  const retries = Object.entries(f.load.retries)
    .map(([cause, n]) => `${cause}:${n}`)
    .join(',');
  const pass = findings.length === 0;
  const summary = [
    `chaos ${pass ? 'PASS' : 'FAIL'}`,
    `scenario=${f.scenario}`,
    `seed=${f.seed}`,
    `duration=${f.durationS}s`,
    `rate=${f.rate}/s`,
    `session_timeout=${f.sessionTimeoutMs === undefined ? '30000ms(kafkajs default)' : `${f.sessionTimeoutMs}ms`}`,
    `heartbeat=${f.heartbeatIntervalMs === undefined ? (f.sessionTimeoutMs === undefined ? '3000ms(kafkajs default)' : 'derived') : `${f.heartbeatIntervalMs}ms`}`,
    `acked=${o.acked}/${f.started}`,
    `terminal=${o.terminal}/${o.acked}`,
    `lost=${o.lost}`,
    `duplicate_payments=${o.duplicatePayments}`,
    `missing_payments=${o.missingPayments}`,
    `mismatches=${o.mismatches}`,
    `unnotified=${o.missingNotifications}`,
    `provider_orphans=${f.providerOrphans}`,
    `outbox_left=${o.outboxLeft}`,
    `dlq=${f.deadLetters.total}`,
    `settle=${seconds(f.settleMs)}`,
    `restart_gap_max=${seconds(f.restartGap.maxMs)}${f.restartGap.slot === undefined ? '' : `(${f.restartGap.slot})`}`,
    `restarts_unmeasured=${f.restartGap.unmeasured}`,
    `kills=${f.kills.length}[${kinds}]`,
    ...(f.outage === undefined
      ? []
      : [`outage=${f.outage.target}@${f.outage.startedAtS.toFixed(1)}-${f.outage.endedAtS.toFixed(1)}s`]),
    `post_retries=${Object.values(f.load.retries).reduce((a, b) => a + b, 0)}[${retries}]`,
    `get_probe=${f.probe.ok}ok/${f.probe.failed}failed`,
    `provider=${f.provider.requests}req/${f.provider.charges}charges/${f.provider.replays}replays/${Object.values(f.provider.faults).reduce((a, b) => a + b, 0)}faults`,
  ].join(' ');
  return { pass, summary, findings, figures: f };
}

/** The environment of a function process: the harness's own, without any orderflow variable, plus `extra`. */
function functionEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  const ours = new Set<string>([...CONFIG_VARIABLES, 'FUNCTION_ID']);
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !ours.has(name)) env[name] = value;
  }
  return { ...env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...extra };
}

/** `node app/main.ts migrate|topics`, as the deployment's one-shot jobs; throws unless it exits 0. */
async function runJob(job: string, env: Record<string, string>, logDir: string): Promise<void> {
  const log = createWriteStream(join(logDir, `${job}.log`));
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts', job], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${job} exited with ${code} (see ${join(logDir, `${job}.log`)})`);
}

async function waitReady(slot: Slot, timeoutMs = 60_000): Promise<void> {
  const url = `http://127.0.0.1:${slot.spec.env.PORT}/readyz`;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (performance.now() > deadline)
      throw new Error(`${slot.spec.name}: /readyz not OK within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** GETs the last acknowledged order from get-order every 250 ms. */
function startProbe(url: string, lastAcked: () => string | undefined) {
  let ok = 0;
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const id = lastAcked();
      if (id !== undefined) {
        const good = await fetch(`${url}/orders/${id}`, { signal: AbortSignal.timeout(2_000) }).then(
          async (r) => {
            await r.body?.cancel();
            return r.ok;
          },
          () => false,
        );
        if (good) ok += 1;
        else failed += 1;
      }
      await sleep(250);
    }
  })();
  return {
    stop: () => {
      running = false;
      return loop;
    },
    counts: () => ({ ok, failed }),
  };
}

interface Database {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** `chaos_<random>` on the server of `adminUrl`; dropped (with force) by `drop()`. */
async function createDatabase(adminUrl: string): Promise<Database> {
  const name = `chaos_${randomBytes(5).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => run(`drop database if exists "${name}" with (force)`) };
}

const handedOut = new Set<number>();

/**
 * A port that is free now, below Linux's ephemeral range (32768–60999): a port the kernel handed out would be
 * free again after a probe, but any outgoing connection (to PostgreSQL, the broker) may take it before the
 * process that should listen there binds it — and again whenever that process is down between a kill and its
 * restart. Slots keep their port for the whole run.
 */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port in 20000–31999');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
