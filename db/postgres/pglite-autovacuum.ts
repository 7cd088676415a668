/**
 * Autovacuum for PGlite. PGlite runs PostgreSQL in single-user mode, which has no autovacuum: without it no
 * table is ever analyzed or vacuumed. The planner then believes every table holds a row or so, and plans
 * accordingly — the outbox claim, for instance, scanned the whole (key, id) index once per candidate row
 * (measured: 160 ms per claim with 2,000 unpublished rows; 2 ms after ANALYZE) — and dead row versions left
 * by updates pile up in tables and indexes for good.
 *
 * This does what autovacuum would, with its default thresholds: every `intervalMs` it reads
 * `pg_stat_user_tables` and runs `ANALYZE` on a table with more than 50 + 10% changed rows since its last
 * analyze, and `VACUUM (ANALYZE)` on one with more than 50 + 20% dead rows or 1000 + 20% rows inserted since
 * its last vacuum. One table at a time, outside any transaction; a run is skipped while the previous one lasts.
 * @module
 */
import { sql } from 'drizzle-orm';
import type { PgDatabase } from './connect.ts';

export interface PgliteAutovacuumOptions {
  /** How often the statistics are checked. Default 2000 (PostgreSQL's autovacuum naps 60 s; PGlite tables are small and checking is one query). */
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
  }, options.intervalMs ?? 2_000);
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

async function maintain(db: PgDatabase, onRun: PgliteAutovacuumOptions['onRun']): Promise<void> {
  const result = (await db.execute(sql`
    select schemaname as schema, relname as name, n_live_tup::float8 as live, n_dead_tup::float8 as dead,
           n_mod_since_analyze::float8 as modified, n_ins_since_vacuum::float8 as inserted
    from pg_stat_user_tables`)) as unknown as { rows: TableStats[] };
  for (const t of result.rows) {
    const vacuum = t.dead > 50 + 0.2 * t.live || t.inserted > 1_000 + 0.2 * t.live;
    const analyze = t.modified > 50 + 0.1 * t.live;
    if (!vacuum && !analyze) continue;
    const command = vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE';
    const started = performance.now();
    await db.execute(sql.raw(`${command} ${quote(t.schema)}.${quote(t.name)}`));
    onRun?.({ table: `${t.schema}.${t.name}`, command, ms: Math.round(performance.now() - started) });
  }
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
