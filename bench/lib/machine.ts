/**
 * What the figures were taken on: cores, CPU, Node, load average, and the code's commit.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { ROOT } from './processes.ts';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  memoryGiB: number;
  loadAverageAtStart: number[];
  commit: string;
  dirty: boolean;
}

export function machineInfo(): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadAverage(),
    // BENCH_COMMIT: for a copy of the code without its .git (e.g. a baseline exported with git archive).
    commit: process.env.BENCH_COMMIT ?? git(['rev-parse', '--short', 'HEAD']),
    dirty:
      git(['status', '--porcelain', '--', 'runtime', 'db', 'functions', 'app', 'local', 'contracts']) !== '',
  };
}

export function loadAverage(): number[] {
  return loadavg().map((n) => Math.round(n * 100) / 100);
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}
