/**
 * `npm run bench`: end to end, HTTP ceiling, messaging ceiling, cold start and memory, in one run on this
 * machine. Prints a table and writes the same figures as JSON (`bench/results/latest.json`). Options:
 * `lib/options.ts`; method and figures: README "Performance".
 *
 *     npm run bench                     full run (about 3½ minutes)
 *     npm run bench -- --quick          short phases (about 45 s)
 *     DATABASE_URL=postgres://… npm run bench -- --database postgres
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureInitdbDump } from '../db/postgres/pglite-initdb.ts';
import { databaseLabel } from './lib/database.ts';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { parseOptions } from './lib/options.ts';
import { type BenchResults, renderTable } from './lib/report.ts';
import { coldStartPhase, prepareColdStart } from './phases/coldstart.ts';
import { e2ePhase } from './phases/e2e.ts';
import { httpPhase } from './phases/http.ts';
import { messagingPhase } from './phases/messaging.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const options = parseOptions(process.argv.slice(2));
const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

const results: BenchResults = {
  startedAt: new Date().toISOString(),
  machine: machineInfo(),
  config: {
    quick: options.quick,
    database: databaseLabel(options.databaseUrl),
    durationS: options.durationS,
    warmupS: options.warmupS,
    connections: options.connections,
    openRate: options.openRate ?? `${options.openFractions.join(', ')} × closed-loop terminal rate`,
    messages: options.messages,
    partitions: options.partitions,
    logLevel: options.logLevel,
    processes: 'load generator + observer in the orchestrator; each system under test in its own process',
  },
  errors: {},
  loadAverageByPhase: {},
};

async function phase<K extends 'e2e' | 'http' | 'messaging' | 'coldStart'>(
  key: K,
  enabled: boolean,
  run: () => Promise<NonNullable<BenchResults[K]>>,
): Promise<void> {
  if (!enabled) return;
  // Other work on the machine bends every figure: note the load average as each phase starts.
  results.loadAverageByPhase[key] = loadAverage();
  try {
    results[key] = await run();
  } catch (error) {
    results.errors[key] = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${key} failed: ${results.errors[key]}`);
  }
}

log(`machine: ${results.machine.cores} cores, load average ${results.machine.loadAverageAtStart.join(' ')}`);
// Every system under test starts a PGlite database from the cached initdb dump; on a machine without one, make
// it once here rather than in several processes at the same time.
if (options.databaseUrl === undefined) await ensureInitdbDump();
// The cold-start phase's set-up (building the bundle, a migrated database) measures nothing: it runs beside
// the first system's start-up, and every load waits until it is over.
const coldStartSetUp = options.phases.includes('coldstart') ? prepareColdStart(options) : undefined;
coldStartSetUp?.catch(() => {});
const setUpDone = coldStartSetUp ?? Promise.resolve();
await phase('e2e', options.phases.includes('e2e'), () => e2ePhase(options, log, setUpDone));
await setUpDone.catch(() => {});
await phase('http', options.phases.includes('http'), () => httpPhase(options, log));
await phase('messaging', options.phases.includes('messaging'), () => messagingPhase(options, log));
await phase('coldStart', coldStartSetUp !== undefined, () => coldStartPhase(options, log, coldStartSetUp));
results.finishedAt = new Date().toISOString();
results.loadAverageAtEnd = loadAverage();

mkdirSync(dirname(options.out), { recursive: true });
writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(
  `\n${renderTable(results)}\n\nJSON: ${options.out} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
);
process.exitCode = Object.keys(results.errors).length > 0 ? 1 : 0;
