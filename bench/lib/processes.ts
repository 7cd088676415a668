/**
 * Child processes of the bench: systems under test (`bench/sut.ts`), a stand-alone broker, and what /proc
 * says about them.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SutMessage, SutRequest, SutSpec } from './sut-protocol.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Sut {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string | undefined;
  readonly brokers: readonly string[] | undefined;
  /** Runs SQL in the SUT's database (that service's, when given); resolves with the rows. */
  sql<T>(text: string, service?: 'orders' | 'payments'): Promise<T[]>;
  /** Sends a request that has no reply (e.g. `consume`). */
  send(request: SutRequest): void;
  /** Next message of this type (e.g. `consumed`). */
  next<K extends SutMessage['type']>(type: K, timeoutMs: number): Promise<Extract<SutMessage, { type: K }>>;
  stop(): Promise<void>;
}

/** Variables that choose a database: a child gets only the ones the bench sets for the engine it runs. */
const DATABASE_VARIABLES = ['DATABASE_URL', 'ORDERS_DATABASE_URL', 'PAYMENTS_DATABASE_URL', 'DATA_DIR'];

/**
 * The environment of a child process: the orchestrator's without its database variables (with
 * `DATABASE_URL` set for the PostgreSQL engine, a PGlite child would otherwise use that server), plus `extra`.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of DATABASE_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

/** Starts `bench/sut.ts` with `spec` and waits until it reports ready. */
export async function startSut(spec: SutSpec, timeoutMs = 120_000): Promise<Sut> {
  // BENCH_PROFILE_DIR=<dir>: each system under test writes a CPU profile there (see bench/sut.ts).
  // BENCH_LOG_DIR=<dir>: its stdout (the JSON log lines) is kept in `<dir>/<mode>-<time>.log` (with --log-level).
  const logDir = process.env.BENCH_LOG_DIR;
  const logFd = logDir ? openSync(join(logDir, `${spec.mode}-${Date.now()}.log`), 'a') : undefined;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/sut.ts')], {
    cwd: ROOT,
    env: childEnv({ ...spec.env, BENCH_SUT: JSON.stringify(spec), KAFKAJS_NO_PARTITIONER_WARNING: '1' }),
    // stdout (the JSON log lines) goes to /dev/null unless kept: written like in production, read by nobody.
    stdio: ['ignore', logFd ?? 'ignore', 'pipe', 'ipc'],
  });
  if (logFd !== undefined) closeSync(logFd);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const waiters: Array<(m: SutMessage) => boolean> = [];
  const backlog: SutMessage[] = [];
  child.on('message', (m: SutMessage) => {
    const i = waiters.findIndex((w) => w(m));
    if (i >= 0) waiters.splice(i, 1);
    else backlog.push(m);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next = <K extends SutMessage['type']>(
    type: K,
    ms: number,
    match: (m: SutMessage) => boolean = () => true,
  ) =>
    new Promise<Extract<SutMessage, { type: K }>>((resolve, reject) => {
      const queued = backlog.findIndex((m) => m.type === type && match(m));
      if (queued >= 0) return resolve(backlog.splice(queued, 1)[0] as Extract<SutMessage, { type: K }>);
      const timer = setTimeout(
        () => reject(new Error(`sut ${spec.mode}: no ${type} within ${ms} ms\n${stderr}`)),
        ms,
      );
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`sut ${spec.mode} exited (${code}) waiting for ${type}\n${stderr}`));
      });
      waiters.push((m) => {
        if (m.type !== type || !match(m)) return false;
        clearTimeout(timer);
        resolve(m as Extract<SutMessage, { type: K }>);
        return true;
      });
    });
  const ready = await next('ready', timeoutMs);
  let sqlId = 0;
  return {
    child,
    pid: child.pid!,
    url: ready.url,
    brokers: ready.brokers,
    async sql<T>(text: string, service?: 'orders' | 'payments') {
      const id = ++sqlId;
      const reply = next('sql-result', 60_000, (m) => m.type === 'sql-result' && m.id === id);
      child.send({ type: 'sql', id, text, ...(service === undefined ? {} : { service }) });
      const result = await reply;
      if (result.error !== undefined) throw new Error(`sql failed: ${result.error}\n${text}`);
      return result.rows as T[];
    },
    send: (request) => {
      child.send(request);
    },
    next: (type, ms) => next(type, ms),
    async stop() {
      if (child.exitCode !== null) return;
      // Measurements are over: a graceful stop (consumers leaving their groups, relays draining) only costs
      // seconds. Graceful only when the process must write its CPU profile on the way out.
      if (!process.env.BENCH_PROFILE_DIR) {
        child.kill('SIGKILL');
        await exited;
        return;
      }
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly brokers: string[];
  stop(): Promise<void>;
}

/** The embedded broker as its own process (`local/kafka-broker/cli.ts`), in memory. */
export async function startBrokerProcess(partitions: number): Promise<BrokerProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'local/kafka-broker/cli.ts',
      '--port',
      '0',
      '--quiet',
      '--partitions',
      String(partitions),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return {
    child,
    brokers: [bootstrap],
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident set size in MiB (Linux /proc), or undefined. */
export function rssMiB(pid: number): number | undefined {
  try {
    const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kib) ? Math.round((kib / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc), or undefined. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(stat[11]) + Number(stat[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Measures the CPU a set of processes uses between `start()` and `stop()`, as a fraction of one core. */
export function cpuMeter(pids: Record<string, number>): { stop(): Record<string, number> } {
  const t0 = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? 0]));
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      return Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [
          k,
          Math.round((((cpuSeconds(pid) ?? 0) - before[k]!) / seconds) * 100) / 100,
        ]),
      );
    },
  };
}
