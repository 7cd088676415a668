/**
 * `npm run bench`: end to end, HTTP ceiling, messaging ceiling, cold start and memory, in one run on this
 * machine. Prints a table and writes the same figures as JSON (`bench/results/latest.json`). Options:
 * `lib/options.ts`; method and figures: README "Performance".
 *
 *     npm run bench                     full run (PGlite)
 *     npm run bench -- --quick          short phases (about a minute per engine)
 *     DATABASE_URL=postgres://… npm run bench        PGlite and PostgreSQL side by side
 *     DATABASE_URL=postgres://… npm run bench -- --database postgres
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureInitdbDump } from '../db/postgres/pglite-initdb.ts';
import { databaseLabel } from './lib/database.ts';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { forEngine, parseOptions } from './lib/options.ts';
import { type BenchResults, type EngineResults, type PhaseKey, renderTable } from './lib/report.ts';
import { coldStartPhase, prepareColdStart } from './phases/coldstart.ts';
import { e2ePhase } from './phases/e2e.ts';
import { httpPhase } from './phases/http.ts';
import { messagingPhase } from './phases/messaging.ts';
import { tracingPhase } from './phases/tracing.ts';

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
    engines: options.engines.join(' + '),
    durationS: options.durationS,
    warmupS: options.warmupS,
    connections: options.connections,
    openRate: options.openRate ?? `${options.openFractions.join(', ')} × closed-loop terminal rate`,
    messages: options.messages,
    partitions: options.partitions,
    logLevel: options.logLevel,
    tracing: options.tracing,
    processes: 'load generator + observer in the orchestrator; each system under test in its own process',
  },
  engines: {},
  errors: {},
};

/**
 * Runs one phase on one engine. A phase that throws (a failure, or a load that measured nothing: see
 * `lib/measured.ts`) is recorded under `<engine> <phase>` in `results.errors`, and the run exits non-zero.
 */
async function phase<K extends PhaseKey>(
  engine: EngineResults,
  key: K,
  enabled: boolean,
  run: () => Promise<NonNullable<EngineResults[K]>>,
): Promise<void> {
  if (!enabled) return;
  // Other work on the machine bends every figure: note the load average as each phase starts.
  engine.loadAverageByPhase[key] = loadAverage();
  try {
    engine[key] = await run();
  } catch (error) {
    const label = `${engine.engine} ${key}`;
    results.errors[label] = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${label} failed: ${results.errors[label]}`);
  }
}

log(`machine: ${results.machine.cores} cores, load average ${results.machine.loadAverageAtStart.join(' ')}`);
// Every system under test starts a PGlite database from the cached initdb dump; on a machine without one, make
// it once here rather than in several processes at the same time.
if (options.engines.includes('pglite')) await ensureInitdbDump();
for (const engine of options.engines) {
  const o = forEngine(options, engine);
  const er: EngineResults = { engine, database: databaseLabel(o.databaseUrl), loadAverageByPhase: {} };
  results.engines[engine] = er;
  log(`${engine}: ${er.database}`);
  // The cold-start phase's set-up (building the bundle, a migrated database) measures nothing: it runs beside
  // the first system's start-up, and every load waits until it is over.
  const coldStartSetUp = o.phases.includes('coldstart') ? prepareColdStart(o) : undefined;
  coldStartSetUp?.catch(() => {});
  const setUpDone = coldStartSetUp ?? Promise.resolve();
  await phase(er, 'e2e', o.phases.includes('e2e'), () => e2ePhase(o, log, setUpDone));
  await setUpDone.catch(() => {});
  await phase(er, 'http', o.phases.includes('http'), () => httpPhase(o, log));
  await phase(er, 'messaging', o.phases.includes('messaging'), () => messagingPhase(o, log));
  await phase(er, 'coldStart', coldStartSetUp !== undefined, () => coldStartPhase(o, log, coldStartSetUp));
  await phase(er, 'tracing', o.tracing, () => tracingPhase(o, log));
}
results.finishedAt = new Date().toISOString();
results.loadAverageAtEnd = loadAverage();

mkdirSync(dirname(options.out), { recursive: true });
writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(
  `\n${renderTable(results)}\n\nJSON: ${options.out} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
);
process.exitCode = Object.keys(results.errors).length > 0 ? 1 : 0;
