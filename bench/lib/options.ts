/**
 * `npm run bench` options.
 *
 *   --quick                  short phases, one cold start each (about 45 s on this 2-core VM)
 *   --duration <s>           length of each measured load (default 10; quick 1)
 *   --warmup <s>             load before measuring (default 3; quick 0.5)
 *   --connections <n>        closed-loop HTTP clients (default 32)
 *   --open-fraction <f,…>    open-loop rates as fractions of the closed loop's terminal rate (default 0.5,0.25; quick 0.5)
 *   --open-rate <n>          fixed open-loop rate instead (orders/s)
 *   --messages <n>           events pre-loaded for the messaging phase (default 20000; quick 2000)
 *   --messaging-limit <s>    longest each consumer of the messaging phase drains (default 60; quick 10)
 *   --cold-starts <n>        cold starts per function (default 5; quick 1)
 *   --rss-load <s>           load before reading RSS (default 10; quick 0.5)
 *   --database <pglite|postgres|both>  default both when DATABASE_URL is set, else pglite; postgres uses
 *                           DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Both: every phase
 *                           on PGlite, then on PostgreSQL, one table with the two side by side
 *   --tracing                also run create-order and process-payment with tracing on (OTLP/HTTP to a
 *                           throw-away receiver in the orchestrator) beside the same loads with it off
 *   --phases <list>          e2e,http,messaging,coldstart (default all)
 *   --partitions <n>         TOPIC_PARTITIONS (default 3)
 *   --log-level <level>      LOG_LEVEL of the systems under test (default info, as deployed; output discarded)
 *   --bundle <path>          dist/main.js to cold-start (default: build one with esbuild into a temp dir)
 *   --out <file>             JSON results (default bench/results/latest.json)
 * @module
 */
import { parseArgs } from 'node:util';

export const PHASES = ['e2e', 'http', 'messaging', 'coldstart'] as const;
export type Phase = (typeof PHASES)[number];
export const ENGINES = ['pglite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export interface BenchOptions {
  quick: boolean;
  durationS: number;
  warmupS: number;
  connections: number;
  openFractions: number[];
  openRate: number | undefined;
  messages: number;
  messagingLimitS: number;
  coldStarts: number;
  rssLoadS: number;
  /** The engines to run every phase on, in order. */
  engines: Engine[];
  /** PostgreSQL server (admin URL) when `engines` has postgres. */
  postgresUrl: string | undefined;
  /**
   * The PostgreSQL server of the engine being run (undefined = PGlite): the phases read this one;
   * {@link forEngine} sets it.
   */
  databaseUrl: string | undefined;
  tracing: boolean;
  phases: Phase[];
  partitions: number;
  logLevel: string;
  bundle: string | undefined;
  out: string;
  drainTimeoutS: number;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'open-fraction': { type: 'string' },
      'open-rate': { type: 'string' },
      messages: { type: 'string' },
      'messaging-limit': { type: 'string' },
      'cold-starts': { type: 'string' },
      'rss-load': { type: 'string' },
      database: { type: 'string' },
      tracing: { type: 'boolean', default: false },
      phases: { type: 'string' },
      partitions: { type: 'string' },
      'log-level': { type: 'string' },
      bundle: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const num = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
    return n;
  };
  const database = values.database ?? (env.DATABASE_URL ? 'both' : 'pglite');
  if (database !== 'pglite' && database !== 'postgres' && database !== 'both')
    throw new Error('--database must be pglite, postgres or both');
  const engines: Engine[] = database === 'both' ? [...ENGINES] : [database];
  const postgresUrl = engines.includes('postgres')
    ? (env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
    : undefined;
  const phases = (values.phases ?? PHASES.join(',')).split(',').map((p) => p.trim()) as Phase[];
  for (const phase of phases) if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}`);
  return {
    quick,
    durationS: num('duration', values.duration, quick ? 1 : 10),
    warmupS: num('warmup', values.warmup, quick ? 0.5 : 3),
    connections: num('connections', values.connections, 32),
    openFractions: (values['open-fraction'] ?? (quick ? '0.5' : '0.5,0.25'))
      .split(',')
      .map((f) => num('open-fraction', f, 0.5)),
    openRate: values['open-rate'] === undefined ? undefined : num('open-rate', values['open-rate'], 1),
    messages: num('messages', values.messages, quick ? 2000 : 20_000),
    messagingLimitS: num('messaging-limit', values['messaging-limit'], quick ? 10 : 60),
    coldStarts: num('cold-starts', values['cold-starts'], quick ? 1 : 5),
    rssLoadS: num('rss-load', values['rss-load'], quick ? 0.5 : 10),
    engines,
    postgresUrl,
    databaseUrl: engines[0] === 'postgres' ? postgresUrl : undefined,
    tracing: values.tracing ?? false,
    phases,
    partitions: num('partitions', values.partitions, Number(env.TOPIC_PARTITIONS ?? 3)),
    logLevel: values['log-level'] ?? env.LOG_LEVEL ?? 'info',
    bundle: values.bundle,
    out: values.out ?? 'bench/results/latest.json',
    drainTimeoutS: quick ? 60 : 180,
  };
}

/** The options with `databaseUrl` set for one engine (what every phase reads). */
export function forEngine(o: BenchOptions, engine: Engine): BenchOptions {
  return { ...o, databaseUrl: engine === 'postgres' ? o.postgresUrl : undefined };
}
