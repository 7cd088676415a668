/**
 * `npm run chaos -- …` options, parsed with `node:util` `parseArgs`. See chaos/README.md.
 * @module
 */
import { parseArgs } from 'node:util';

export const SCENARIOS = ['kills', 'db-outage', 'provider-outage'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const OUTAGE_TARGETS = ['all', 'orders', 'payments'] as const;
export type OutageTarget = (typeof OUTAGE_TARGETS)[number];

export interface ChaosOptions {
  scenario: Scenario;
  /** Load (and fault) phase, seconds. */
  durationS: number;
  seed: number;
  /** Orders started per second. */
  rate: number;
  /** Admin URL of the PostgreSQL server; the run creates and drops its own database there. */
  databaseUrl: string;
  /** kills: mean seconds between two kills, and the longest pause before a restart. */
  killEveryS: number;
  maxPauseS: number;
  /** Outage scenarios: when the outage starts (from the start of the load) and how long it lasts. */
  outageAtS: number;
  outageS: number;
  /** db-outage: which service's database goes away (each has its own proxy). */
  outageTarget: OutageTarget;
  /** `KAFKA_SESSION_TIMEOUT_MS` of every function process; undefined = kafkajs' default (30 s). */
  sessionTimeoutMs: number | undefined;
  /** `KAFKA_HEARTBEAT_INTERVAL_MS`; undefined = the product's default (a third of the session, at most 3 s). */
  heartbeatIntervalMs: number | undefined;
  /** Replicas of each event function. */
  replicas: number;
  partitions: number;
  /** Longest wait for the system to settle after the load, seconds. */
  settleTimeoutS: number;
  /** Per-process logs go here (default: a new directory in the temp directory). */
  logDir: string | undefined;
  keepDatabase: boolean;
}

export const USAGE = `usage: npm run chaos -- [--scenario kills|db-outage|provider-outage] [--duration <s>] [--seed <n>]
         [--rate <orders/s>] [--database-url <postgres://…>] [--kill-every <s>] [--max-pause <s>]
         [--outage-at <s>] [--outage <s>] [--outage-target all|orders|payments]
         [--session-timeout <ms>|default] [--heartbeat <ms>|default] [--replicas <n>]
         [--partitions <n>] [--settle-timeout <s>] [--log-dir <dir>] [--keep-database]
DATABASE_URL (or --database-url) must point at a PostgreSQL server; the run works in its own database.`;

/** A bad command line; its message is shown with the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Default `KAFKA_SESSION_TIMEOUT_MS` of a run (chaos/README.md, "The restart gap", says why). */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/** Default `KAFKA_HEARTBEAT_INTERVAL_MS` of a run: survivors hear of a rebalance within a second. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * @example parseChaosArgs(['--scenario', 'db-outage', '--seed', '7'], process.env)
 * @throws UsageError for an unknown option, a bad number, or no database URL.
 */
export function parseChaosArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ChaosOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        scenario: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        'database-url': { type: 'string' },
        'kill-every': { type: 'string' },
        'max-pause': { type: 'string' },
        'outage-at': { type: 'string' },
        outage: { type: 'string' },
        'outage-target': { type: 'string' },
        'session-timeout': { type: 'string' },
        heartbeat: { type: 'string' },
        replicas: { type: 'string' },
        partitions: { type: 'string' },
        'settle-timeout': { type: 'string' },
        'log-dir': { type: 'string' },
        'keep-database': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return 'help';
  const text = (name: string) => values[name] as string | undefined;
  const scenario = (text('scenario') ?? 'kills') as Scenario;
  if (!SCENARIOS.includes(scenario))
    throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const durationS = number('duration', text('duration'), 60, 5);
  const databaseUrl = text('database-url') ?? env.DATABASE_URL;
  if (databaseUrl === undefined || databaseUrl === '')
    throw new UsageError(
      'no database: set DATABASE_URL (or pass --database-url) to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres',
    );
  if (!/^postgres(ql)?:\/\//i.test(databaseUrl))
    throw new UsageError('the database URL must start with postgres:// or postgresql://');
  const session = text('session-timeout');
  const outageTarget = (text('outage-target') ?? 'all') as OutageTarget;
  if (!OUTAGE_TARGETS.includes(outageTarget))
    throw new UsageError(`--outage-target must be one of ${OUTAGE_TARGETS.join(', ')}`);
  return {
    scenario,
    durationS,
    seed: number('seed', text('seed'), Math.floor(Math.random() * 2 ** 31), 0, true),
    rate: number('rate', text('rate'), 10, 0.1),
    databaseUrl,
    killEveryS: number('kill-every', text('kill-every'), 5, 0.5),
    maxPauseS: number('max-pause', text('max-pause'), 5, 0.5),
    outageAtS: number('outage-at', text('outage-at'), Math.max(5, Math.round(durationS / 3)), 0),
    outageS: number('outage', text('outage'), 10, 1),
    outageTarget,
    sessionTimeoutMs:
      session === 'default'
        ? undefined
        : number('session-timeout', session, DEFAULT_SESSION_TIMEOUT_MS, 1_000, true),
    heartbeatIntervalMs:
      text('heartbeat') === 'default' || (session === 'default' && text('heartbeat') === undefined)
        ? undefined
        : number('heartbeat', text('heartbeat'), DEFAULT_HEARTBEAT_INTERVAL_MS, 100, true),
    replicas: number('replicas', text('replicas'), 2, 1, true),
    partitions: number('partitions', text('partitions'), 3, 1, true),
    settleTimeoutS: number('settle-timeout', text('settle-timeout'), 180, 10),
    logDir: text('log-dir'),
    keepDatabase: values['keep-database'] === true,
  };
}

function number(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  integer = false,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got '${raw}'`);
  return n;
}
