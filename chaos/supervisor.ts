/**
 * The processes of a chaos run: each slot (the broker, one function replica) is started with a fixed command,
 * environment and port, SIGKILLed and started again on the harness's schedule. Every line a process writes
 * goes to `<logDir>/<slot>.log`; the lines are also watched for the moment a restarted process handles work
 * again (a handler's log line, an answered request) and when a consumer joins its group.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface SlotSpec {
  /** e.g. `process-payment#2`. */
  name: string;
  /** e.g. `process-payment`, `broker`. */
  kind: string;
  /** Arguments of `node` (the executable is `process.execPath`). */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** A line that says the process is up (e.g. `"msg":"serving"`). */
  readyLine: RegExp;
}

/** One start of a slot after a kill, and what it did next. */
export interface Restart {
  slot: string;
  kind: string;
  /** `performance.now()` when it was spawned again. */
  at: number;
  /** When it first handled work (a handler's line, an answered request); undefined = not seen. */
  handledAt?: number;
  /** When one of its consumers joined a group with partitions. */
  joinedAt?: number;
  /** Killed again before it handled anything. */
  interrupted?: boolean;
}

export interface Slot {
  readonly spec: SlotSpec;
  isUp(): boolean;
  /** Spawns the process; resolves when its ready line appears (rejects if it exits first or after `timeoutMs`). */
  start(timeoutMs?: number): Promise<void>;
  /** SIGKILL; resolves when it has exited. */
  kill(): Promise<void>;
  /** Spawns it again (does not wait for ready) and records a {@link Restart}. */
  restart(): Restart;
  /** Called for each handling line (any slot): the broker's restarts are measured with them. */
  onHandled?: ((at: number) => void) | undefined;
  /** Kills the process if it runs and closes its log. */
  dispose(): Promise<void>;
}

const HANDLER_LINE = /"correlationId"/;
const JOINED_LINE = /"msg":"joined consumer group"/;

/** True for a line that shows the process did work: a handler's log line or an answered business request. */
export function isHandlingLine(line: string): boolean {
  if (!HANDLER_LINE.test(line)) return false;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.component === undefined) return typeof entry.functionId === 'string';
    return (
      entry.component === 'http' &&
      entry.msg === 'request' &&
      typeof entry.path === 'string' &&
      entry.path.startsWith('/order') &&
      typeof entry.status === 'number' &&
      entry.status < 500
    );
  } catch {
    return false;
  }
}

/** True for a "joined consumer group" line whose assignment names at least one partition. */
export function isJoinedWithPartitions(line: string): boolean {
  if (!JOINED_LINE.test(line)) return false;
  try {
    const { assignment } = JSON.parse(line) as { assignment?: Record<string, number[]> };
    return Object.values(assignment ?? {}).some((partitions) => partitions.length > 0);
  } catch {
    return false;
  }
}

/** @example const slot = createSlot(spec, logDir); await slot.start(); await slot.kill(); slot.restart(); */
export function createSlot(spec: SlotSpec, logDir: string): Slot {
  const log: WriteStream = createWriteStream(join(logDir, `${spec.name.replace('#', '-')}.log`), {
    flags: 'a',
  });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let current: Restart | undefined;
  let readyWaiter: ((line: string) => void) | undefined;

  const spawnChild = () => {
    log.write(`# ---- start ${new Date().toISOString()}\n`);
    const proc = spawn(process.execPath, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    exited = new Promise<void>((resolve) =>
      proc.once('exit', (code, signal) => {
        log.write(`# ---- exit ${new Date().toISOString()} code=${code} signal=${signal}\n`);
        if (child === proc) child = undefined;
        resolve();
      }),
    );
    for (const stream of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        log.write(`${line}\n`);
        readyWaiter?.(line);
        const restart = current;
        if (restart !== undefined && restart.handledAt === undefined && isHandlingLine(line)) {
          restart.handledAt = performance.now();
        }
        if (restart !== undefined && restart.joinedAt === undefined && isJoinedWithPartitions(line)) {
          restart.joinedAt = performance.now();
        }
        if (slot.onHandled !== undefined && isHandlingLine(line)) slot.onHandled(performance.now());
      });
    }
    return proc;
  };

  const slot: Slot = {
    spec,
    isUp: () => child !== undefined,
    start(timeoutMs = 60_000) {
      const proc = spawnChild();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          readyWaiter = undefined;
          reject(new Error(`${spec.name}: not ready within ${timeoutMs} ms (see its log in ${logDir})`));
        }, timeoutMs);
        readyWaiter = (line) => {
          if (!spec.readyLine.test(line)) return;
          readyWaiter = undefined;
          clearTimeout(timer);
          resolve();
        };
        proc.once('exit', (code) => {
          if (readyWaiter === undefined) return;
          readyWaiter = undefined;
          clearTimeout(timer);
          reject(new Error(`${spec.name}: exited with ${code} before it was ready (see ${logDir})`));
        });
      });
    },
    async kill() {
      if (current !== undefined && current.handledAt === undefined) current.interrupted = true;
      child?.kill('SIGKILL');
      await exited;
    },
    restart() {
      current = { slot: spec.name, kind: spec.kind, at: performance.now() };
      spawnChild();
      return current;
    },
    async dispose() {
      child?.kill('SIGKILL');
      await exited;
      await new Promise<void>((resolve) => log.end(() => resolve()));
    },
  };
  return slot;
}
