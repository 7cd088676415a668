/**
 * `npm start` as a person sees it: the launcher in its own process (`--memory`, free ports), its stdout and
 * stderr read line by line. Pretty logs (LOG_FORMAT=pretty stands in for a terminal), then the banner as the
 * last thing printed; with JSON logs stdout stays JSON lines and the banner goes to stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { banner } from './terminal.ts';

interface Launched {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

let running: Launched | undefined;
afterEach(async () => {
  if (running?.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  running = undefined;
});

function launch(env: Record<string, string>): Launched {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--memory', '--port', '0'], {
    cwd: new URL('..', import.meta.url),
    // Only what is given: never this process's DATABASE_URL or KAFKA_BROKERS.
    env: { PATH: process.env.PATH, KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  running = { child, stdout, stderr, exited };
  return running;
}

async function until(condition: () => boolean, what: string, launched: Launched, ms = 45_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (launched.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(
        `${what}; stdout:\n${launched.stdout.join('\n')}\nstderr:\n${launched.stderr.join('\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const LAST_BANNER_LINE = 'Ctrl-C stops it.';

describe('npm start (local/start.ts)', () => {
  it('prints pretty log lines, then the banner last, and stops on SIGINT', async () => {
    const launched = launch({ LOG_FORMAT: 'pretty' });
    await until(() => launched.stdout.includes(LAST_BANNER_LINE), 'no banner', launched);
    const lines = launched.stdout;
    const bannerStart = lines.findIndex((line) => line.startsWith('orderflow is up on http://'));
    expect(bannerStart).toBeGreaterThan(0);
    const before = lines.slice(0, bannerStart).filter((line) => line.trim() !== '');
    expect(before.length).toBeGreaterThan(0);
    for (const line of before) {
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|DEBUG):/);
      expect(line.startsWith('{')).toBe(false);
    }
    const url = /on (http:\/\/\S+)/.exec(lines[bannerStart]!)![1]!;
    // Nothing of start-up follows it, however long one waits.
    const printed = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(lines.slice(printed)).toEqual([]);
    expect(lines.slice(bannerStart - 1).join('\n')).toBe(
      banner({
        url,
        kafka: /Kafka: ([^;]+);/.exec(lines[bannerStart + 1]!)![1]!,
        data: 'in memory (nothing kept)',
        ops: { token: /Ops token: (\S+)/.exec(lines[bannerStart + 3]!)![1]!, generated: true },
      })
        .split('\n')
        .slice(0, -1)
        .join('\n'),
    );
    launched.child.kill('SIGINT');
    expect(await launched.exited).toBe(0);
  }, 60_000);

  it('with JSON logs keeps stdout JSON lines and prints the banner on stderr', async () => {
    const launched = launch({ LOG_FORMAT: 'json' });
    await until(() => launched.stderr.includes(LAST_BANNER_LINE), 'no banner on stderr', launched);
    expect(launched.stdout.length).toBeGreaterThan(0);
    for (const line of launched.stdout) expect(() => JSON.parse(line), line).not.toThrow();
    expect(launched.stderr.some((line) => line.startsWith('orderflow is up on http://'))).toBe(true);
    // The embedded broker runs in a worker thread of its own (the functions' event loop is the main thread).
    const listening = launched.stdout
      .map((line) => JSON.parse(line) as { msg?: string; component?: string; thread?: number })
      .find((line) => line.component === 'kafka-broker' && line.msg === 'broker listening');
    expect(listening?.thread).toBeGreaterThan(0);
    launched.child.kill('SIGTERM');
    expect(await launched.exited).toBe(0);
  }, 60_000);

  it('refuses a LOG_FORMAT it does not know, naming the variable', async () => {
    const launched = launch({ LOG_FORMAT: 'yaml' });
    expect(await launched.exited).toBe(1);
    expect(launched.stderr.join('\n')).toContain('LOG_FORMAT: must be one of json, pretty (got "yaml")');
  }, 30_000);
});
