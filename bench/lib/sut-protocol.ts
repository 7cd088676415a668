/**
 * Messages between the bench orchestrator and a system-under-test process (`bench/sut.ts`).
 * @module
 */

/** How to start a system under test. */
export interface SutSpec {
  mode: 'system' | 'functions' | 'bare-hono' | 'same-work-hono' | 'raw-consumer' | 'same-work-consumer';
  /** Function ids (`system`: default all; `functions`: required). */
  functions?: readonly string[];
  /** Outside broker (`functions`, `raw-consumer`/`same-work-consumer`). */
  brokers?: readonly string[];
  /** PostgreSQL server database; absent = PGlite in memory. */
  databaseUrl?: string;
  logLevel: string;
  partitions: number;
  /** Extra environment of the process (e.g. `OTEL_*` to turn tracing on); the orchestrator's is inherited. */
  env?: Record<string, string>;
  /** `raw-consumer`/`same-work-consumer`: report `consumed` when this many messages are done. */
  expectedMessages?: number;
  /** `raw-consumer`/`same-work-consumer`: report `consumed` (with what is done) at the latest this long after the first message. */
  limitMs?: number;
  partitionsConsumedConcurrently?: number;
  /**
   * `raw-consumer`/`same-work-consumer`: get ready (database open) without a broker, and start consuming on a `consume`
   * request, so that start-up can overlap the orchestrator's own set-up.
   */
  deferConsume?: boolean;
}

export type SutMessage =
  | { type: 'ready'; url?: string; brokers?: readonly string[] }
  | { type: 'sql-result'; id: number; rows?: unknown[]; error?: string }
  | { type: 'consumed'; count: number; firstMs: number; lastMs: number };

export type SutRequest =
  /** `service`: run it in that service's database (the system's services may have one each). */
  | { type: 'sql'; id: number; text: string; service?: 'orders' | 'payments' }
  | { type: 'stop' }
  | { type: 'consume'; brokers: readonly string[] };
