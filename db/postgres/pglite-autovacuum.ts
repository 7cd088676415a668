/**
 * Autovacuum for PGlite. PGlite runs PostgreSQL in single-user mode, which has no autovacuum: without it no
 * table is ever analyzed or vacuumed. The planner then believes every table holds a row or so, and plans
 * accordingly — the outbox claim, for instance, scanned the whole (key, id) index once per candidate row
 * (measured: 160 ms per claim with 2,000 unpublished rows; 2 ms after ANALYZE) — and dead row versions left
 * by updates pile up in tables and indexes for good.
 *
 * This does what autovacuum would, with its default thresholds: every `intervalMs` it reads
 * `pg_stat_user_tables` and runs `ANALYZE` on a table with more than 50 + 10% changed rows since its last
 * analyze, or `VACUUM (ANALYZE)` on one with more than 50 + 20% dead rows or 1000 + 20% rows inserted since
 * its last vacuum. Unlike autovacuum it cannot run beside the queries (PGlite has one connection: every
 * statement waits for it), so it keeps each pause short: one table per round (the one furthest past its
 * threshold), outside any transaction, with a 3,000-row ANALYZE sample; a round is skipped while the previous
 * one lasts. Measured under load: seven tables in one round paused PGlite for 60–120 ms every 2 s, and an
 * ANALYZE of a 10,000-row outbox at the default sample took 323 ms.
 * @module
 */
import { sql } from 'drizzle-orm';
import type { PgDatabase } from './connect.ts';

export interface PgliteAutovacuumOptions {
  /** How often the statistics are checked (at most one table is maintained per check). Default 1000 (PostgreSQL's autovacuum naps 60 s; checking is one query). */
  intervalMs?: number;
  /** Called with each table maintained and the command, or with an error (logged by the caller). */
  onRun?: (event: { table: string; command: string; ms: number } | { error: unknown }) => void;
}

export interface PgliteAutovacuum {
  /** One check and the maintenance it calls for, now. Resolves when done. */
  runOnce(): Promise<void>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

interface TableStats {
  schema: string;
  name: string;
  live: number;
  dead: number;
  modified: number;
  inserted: number;
}

/** Starts the periodic check; the timer does not keep the process alive. */
export function startPgliteAutovacuum(
  db: PgDatabase,
  options: PgliteAutovacuumOptions = {},
): PgliteAutovacuum {
  let running: Promise<void> | undefined;
  let stopped = false;

  const runOnce = (): Promise<void> => {
    running ??= maintain(db, options.onRun)
      .catch((error: unknown) => options.onRun?.({ error }))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const timer = setInterval(() => {
    if (!stopped && running === undefined) void runOnce();
  }, options.intervalMs ?? 1_000);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Statistics target of these ANALYZE runs: 3,000 sampled rows instead of PostgreSQL's 30,000. */
export const MAINTENANCE_STATISTICS_TARGET = 10;

async function maintain(db: PgDatabase, onRun: PgliteAutovacuumOptions['onRun']): Promise<void> {
  const result = (await db.execute(sql`
    select schemaname as schema, relname as name, n_live_tup::float8 as live, n_dead_tup::float8 as dead,
           n_mod_since_analyze::float8 as modified, n_ins_since_vacuum::float8 as inserted
    from pg_stat_user_tables`)) as unknown as { rows: TableStats[] };
  // The table furthest past a threshold; the others wait for the next round. Each command holds PGlite's
  // only connection, so one per round keeps the pause it causes to one table's worth.
  let due: { table: TableStats; vacuum: boolean; overdue: number } | undefined;
  for (const t of result.rows) {
    const vacuumBy = Math.max(t.dead / (50 + 0.2 * t.live), t.inserted / (1_000 + 0.2 * t.live));
    const analyzeBy = t.modified / (50 + 0.1 * t.live);
    const overdue = Math.max(vacuumBy, analyzeBy);
    if (overdue > 1 && (due === undefined || overdue > due.overdue))
      due = { table: t, vacuum: vacuumBy > 1, overdue };
  }
  if (due === undefined) return;
  const { table, vacuum } = due;
  const command = vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE';
  const started = performance.now();
  // A smaller sample than PostgreSQL's default: these are PGlite's small tables, and the sample's cost is paid
  // while every other statement waits. The planner needs row counts and rough distributions, not fine ones.
  await db.execute(sql.raw(`set default_statistics_target = ${MAINTENANCE_STATISTICS_TARGET}`));
  try {
    await db.execute(sql.raw(`${command} ${quote(table.schema)}.${quote(table.name)}`));
  } finally {
    await db.execute(sql.raw('reset default_statistics_target'));
  }
  onRun?.({ table: `${table.schema}.${table.name}`, command, ms: Math.round(performance.now() - started) });
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
