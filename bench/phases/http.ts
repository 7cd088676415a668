/**
 * Phase 2, the HTTP ceiling: the same closed-loop POST load against (a) a bare Hono route on
 * @hono/node-server doing create-order's single insert into the same kind of database, and (b) create-order
 * served by the runtime as it is deployed (`serve create-order`: validation, one transaction with the order
 * and its outbox row, logging, and the outbox relay publishing to a broker in another process).
 * @module
 */
import { benchDatabase } from '../lib/database.ts';
import { type ClosedLoopResult, closedLoopPosts } from '../lib/load.ts';
import type { BenchOptions } from '../lib/options.ts';
import { cpuMeter, startBrokerProcess, startSut } from '../lib/processes.ts';
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
  // create-order's broker starts now, beside the bare-Hono system's start-up, and idles until it is used.
  const brokerStarting = startBrokerProcess(o.partitions);
  brokerStarting.catch(() => {});
  log(`http: bare Hono, ${o.connections} connections, ${o.durationS} s`);
  const bareHono = await measure(
    o,
    { mode: 'bare-hono', logLevel: o.logLevel, partitions: o.partitions },
    'b',
  );
  log(`http: bare Hono → ${bareHono.http.rps} req/s`);
  const broker = await brokerStarting;
  try {
    log(`http: create-order, ${o.connections} connections, ${o.durationS} s`);
    const createOrder = await measure(
      o,
      {
        mode: 'functions',
        functions: ['create-order'],
        brokers: broker.brokers,
        logLevel: o.logLevel,
        partitions: o.partitions,
      },
      'h',
      broker.child.pid,
    );
    log(`http: create-order → ${createOrder.http.rps} req/s`);
    return {
      connections: o.connections,
      bareHono,
      createOrder,
      ratio: Math.round((createOrder.http.rps / bareHono.http.rps) * 100) / 100,
    };
  } finally {
    await broker.stop();
  }
}

async function measure(
  o: BenchOptions,
  spec: SutSpec,
  prefix: string,
  brokerPid?: number,
): Promise<HttpTarget> {
  const db = await benchDatabase(o.databaseUrl);
  const sut = await startSut({ ...spec, ...(db.url === undefined ? {} : { databaseUrl: db.url }) });
  try {
    const load = { url: sut.url!, path: '/orders', connections: o.connections, amount: 50 };
    await closedLoopPosts({ ...load, durationS: o.warmupS, idPrefix: `${prefix}w` });
    const meter = cpuMeter({
      sut: sut.pid,
      loadgen: process.pid,
      ...(brokerPid === undefined ? {} : { broker: brokerPid }),
    });
    const result = await closedLoopPosts({ ...load, durationS: o.durationS, idPrefix: prefix });
    const cpu = meter.stop();
    const { sentAt: _s, created: _c, ...http } = result;
    return { http, cpu };
  } finally {
    await sut.stop();
    await db.drop();
  }
}
