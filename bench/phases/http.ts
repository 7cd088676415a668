/**
 * Phase 2, the HTTP ceilings: the same closed-loop POST load against
 * (a) bare: a Hono route on @hono/node-server doing create-order's single insert into the same kind of database;
 * (b) same work: the same route doing create-order's transaction (order row + outbox row, one commit, nothing
 *     else; `bench/sut.ts`);
 * (c) create-order served by the runtime as it is deployed (`serve create-order`: validation, one transaction
 *     with the order and its outbox row, logging, and the outbox relay publishing to a broker in another
 *     process).
 * All three start together; create-order is measured first, beside the two idle ceilings (their CPU shown as
 * `idle`), then same work beside the idle bare one, then bare alone: an idle system's cost counts against the
 * one measured, never in its favour. Ratios: runtime overhead = create-order ÷ same work, guarantee cost =
 * same work ÷ bare, and create-order ÷ bare.
 * @module
 */
import { type BenchDatabase, benchDatabase } from '../lib/database.ts';
import { type ClosedLoopResult, closedLoopPosts, warmUp } from '../lib/load.ts';
import { ratio, requireAnswered } from '../lib/measured.ts';
import type { BenchOptions } from '../lib/options.ts';
import { cpuMeter, type Sut, startBrokerProcess, startSut } from '../lib/processes.ts';
import type { SutSpec } from '../lib/sut-protocol.ts';

export interface HttpTarget {
  http: ClosedLoopResult;
  cpu: Record<string, number>;
}

export interface HttpResult {
  connections: number;
  bareHono: HttpTarget;
  sameWork: HttpTarget;
  createOrder: HttpTarget;
  /** create-order req/s ÷ bare Hono req/s. */
  ratio: number;
  /** create-order req/s ÷ same-work req/s: what the runtime costs beyond the transaction it runs. */
  runtimeOverhead: number;
  /** same-work req/s ÷ bare req/s: what the outbox transaction costs beyond one insert. */
  guaranteeCost: number;
}

export async function httpPhase(o: BenchOptions, log: (line: string) => void): Promise<HttpResult> {
  // Both systems (and create-order's broker) start side by side; start-up is not measured.
  const broker = await startBrokerProcess(o.partitions);
  const started: Array<{ sut: Sut; db: BenchDatabase }> = [];
  try {
    const start = async (spec: SutSpec) => {
      const db = await benchDatabase(o.databaseUrl);
      const sut = await startSut({ ...spec, ...(db.url === undefined ? {} : { databaseUrl: db.url }) }).catch(
        async (error: unknown) => {
          await db.drop();
          throw error;
        },
      );
      started.push({ sut, db });
      return sut;
    };
    const [bare, sameWorkSut, createOrder] = await Promise.all([
      start({ mode: 'bare-hono', logLevel: o.logLevel, partitions: o.partitions }),
      start({ mode: 'same-work-hono', logLevel: o.logLevel, partitions: o.partitions }),
      start({
        mode: 'functions',
        functions: ['create-order'],
        brokers: broker.brokers,
        logLevel: o.logLevel,
        partitions: o.partitions,
      }),
    ]);
    // create-order first, with the ceilings idle beside it: whatever an idle one costs counts against
    // create-order, never in its favour. Then same work beside the idle bare one, then bare alone.
    log(`http: create-order, ${o.connections} connections, ${o.durationS} s`);
    const created = await measure(o, createOrder, 'create-order', 'h', {
      idle: bare.pid,
      idle2: sameWorkSut.pid,
      broker: broker.child.pid!,
    });
    log(`http: create-order → ${created.http.rps} req/s`);
    await createOrder.stop();
    log(`http: same-work Hono, ${o.connections} connections, ${o.durationS} s`);
    const sameWork = await measure(o, sameWorkSut, 'same-work Hono', 's', { idle: bare.pid });
    log(`http: same-work Hono → ${sameWork.http.rps} req/s`);
    await sameWorkSut.stop();
    log(`http: bare Hono, ${o.connections} connections, ${o.durationS} s`);
    const bareHono = await measure(o, bare, 'bare Hono', 'b', {});
    log(`http: bare Hono → ${bareHono.http.rps} req/s`);
    return {
      connections: o.connections,
      bareHono,
      sameWork,
      createOrder: created,
      ratio: ratio(created.http.rps, bareHono.http.rps),
      runtimeOverhead: ratio(created.http.rps, sameWork.http.rps),
      guaranteeCost: ratio(sameWork.http.rps, bareHono.http.rps),
    };
  } finally {
    for (const { sut, db } of started) {
      await sut.stop();
      await db.drop();
    }
    await broker.stop();
  }
}

/** Warm-up, then the measured closed-loop POSTs; throws when the load got no 2xx answer. */
export async function measure(
  o: BenchOptions,
  sut: Sut,
  what: string,
  prefix: string,
  others: Record<string, number>,
): Promise<HttpTarget> {
  const load = { url: sut.url!, path: '/orders', connections: o.connections, amount: 50 };
  await warmUp({ ...load, durationS: o.warmupS, idPrefix: `${prefix}w`, minAnswers: o.connections });
  const meter = cpuMeter({ sut: sut.pid, loadgen: process.pid, ...others });
  const result = await closedLoopPosts({ ...load, durationS: o.durationS, idPrefix: prefix });
  const cpu = meter.stop();
  const { sentAt: _s, created: _c, ...http } = result;
  requireAnswered(`http ${what}`, http);
  return { http, cpu };
}
