/**
 * Phase 2, the HTTP ceiling: the same closed-loop POST load against (a) a bare Hono route on
 * @hono/node-server doing create-order's single insert into the same kind of database, and (b) create-order
 * served by the runtime as it is deployed (`serve create-order`: validation, one transaction with the order
 * and its outbox row, logging, and the outbox relay publishing to a broker in another process). Both start
 * together; create-order is measured first, beside the idle bare-Hono system (its CPU shown as `idle`), then
 * the bare-Hono system alone.
 * @module
 */
import { type BenchDatabase, benchDatabase } from '../lib/database.ts';
import { type ClosedLoopResult, closedLoopPosts } from '../lib/load.ts';
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
  createOrder: HttpTarget;
  /** create-order req/s ÷ bare Hono req/s. */
  ratio: number;
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
    const [bare, createOrder] = await Promise.all([
      start({ mode: 'bare-hono', logLevel: o.logLevel, partitions: o.partitions }),
      start({
        mode: 'functions',
        functions: ['create-order'],
        brokers: broker.brokers,
        logLevel: o.logLevel,
        partitions: o.partitions,
      }),
    ]);
    // create-order first, with the bare-Hono system idle beside it: whatever the idle one costs counts
    // against create-order, never in its favour. The ceiling is then measured alone.
    log(`http: create-order, ${o.connections} connections, ${o.durationS} s`);
    const created = await measure(o, createOrder, 'h', { idle: bare.pid, broker: broker.child.pid! });
    log(`http: create-order → ${created.http.rps} req/s`);
    await createOrder.stop();
    log(`http: bare Hono, ${o.connections} connections, ${o.durationS} s`);
    const bareHono = await measure(o, bare, 'b', {});
    log(`http: bare Hono → ${bareHono.http.rps} req/s`);
    return {
      connections: o.connections,
      bareHono,
      createOrder: created,
      ratio: Math.round((created.http.rps / bareHono.http.rps) * 100) / 100,
    };
  } finally {
    for (const { sut, db } of started) {
      await sut.stop();
      await db.drop();
    }
    await broker.stop();
  }
}

async function measure(
  o: BenchOptions,
  sut: Sut,
  prefix: string,
  others: Record<string, number>,
): Promise<HttpTarget> {
  const load = { url: sut.url!, path: '/orders', connections: o.connections, amount: 50 };
  await closedLoopPosts({ ...load, durationS: o.warmupS, idPrefix: `${prefix}w` });
  const meter = cpuMeter({ sut: sut.pid, loadgen: process.pid, ...others });
  const result = await closedLoopPosts({ ...load, durationS: o.durationS, idPrefix: prefix });
  const cpu = meter.stop();
  const { sentAt: _s, created: _c, ...http } = result;
  return { http, cpu };
}
