/**
 * Phase 1, end to end: the all-in-one system (embedded broker + every function, PGlite or a PostgreSQL
 * server) under HTTP load; orders/s reaching their terminal state and POST → terminal latency.
 *
 * Terminal time = when the order's `OrderShipped` event reaches an independent consumer in the
 * orchestrator (see `lib/observer.ts`): it is published only after the SHIPPED/PAID transaction committed,
 * so it is an upper bound that adds one relay hop and one fetch. Every order is 50.00 (paid, then shipped:
 * the longest path, three consumers and three relay hops). The store's own timestamps (created_at →
 * updated_at of the terminal update, both from the system's clock inside the handlers) are reported beside it.
 * @module
 */
import { Kafka, logLevel } from 'kafkajs';
import { benchDatabase } from '../lib/database.ts';
import { type LatencySummary, latencyHistogram, recordMs, summarize } from '../lib/histogram.ts';
import { HOP_TOPICS, type HopFigures, hopFigures, readTopics } from '../lib/hops.ts';
import {
  type ClosedLoopResult,
  closedLoopPosts,
  type OrderLoad,
  openLoopPosts,
  warmUp,
} from '../lib/load.ts';
import { NothingMeasuredError, requireAnswered } from '../lib/measured.ts';
import { startObserver } from '../lib/observer.ts';
import type { BenchOptions } from '../lib/options.ts';
import { cpuMeter, rssMiB, startSut } from '../lib/processes.ts';
import { sleep } from '../lib/time.ts';

export interface TerminalFigures {
  created: number;
  terminal: number;
  /** Orders that reached the terminal state while the load ran, per second of load. */
  terminalPerSecond: number;
  /** All orders of the run ÷ (last terminal − first POST): the rate the whole batch was completed at. */
  completedPerSecond: number;
  /** Created orders not yet terminal when the load stopped. */
  backlogAtEnd: number;
  /** From the end of the load until the last order was terminal (ms). */
  drainMs: number;
  latency: LatencySummary;
  storeLatency: LatencySummary;
}

export interface E2EResult {
  closed: {
    connections: number;
    http: ClosedLoopResult;
    terminal: TerminalFigures;
    cpu: Record<string, number>;
  };
  /** The open-loop run at the first rate (`--open-fraction`'s first value, or `--open-rate`). */
  open: OpenLoopFigures;
  /** Open-loop runs at the further fractions, in order. */
  openMore: OpenLoopFigures[];
  integrity: Record<string, unknown>;
  sutRssMiB: number | undefined;
}

export interface OpenLoopFigures {
  rate: number;
  /** The fraction of the closed loop's maximum this rate is (undefined for `--open-rate`). */
  fraction: number | undefined;
  sent: number;
  statuses: Record<string, number>;
  httpLatency: LatencySummary;
  maxSendLagMs: number;
  terminal: TerminalFigures;
  /** Where the time of one order went (`lib/hops.ts`). */
  hops: HopFigures;
  cpu: Record<string, number>;
}

/**
 * `otherSetUp`: set-up work of later phases started beside this system's start-up (nothing measured); the
 * load starts only once it is over.
 */
export async function e2ePhase(
  o: BenchOptions,
  log: (line: string) => void,
  otherSetUp: Promise<unknown> = Promise.resolve(),
): Promise<E2EResult> {
  const db = await benchDatabase(o.databaseUrl);
  const sut = await startSut({
    mode: 'system',
    logLevel: o.logLevel,
    partitions: o.partitions,
    ...(db.url === undefined ? {} : { databaseUrl: db.url }),
  });
  const observer = await startObserver(sut.brokers!, ['order-shipped']);
  try {
    const url = sut.url!;
    const pids = { sut: sut.pid, loadgen: process.pid };
    const drainTimeoutMs = o.drainTimeoutS * 1000;

    await otherSetUp.catch(() => {});
    log(`e2e: warm-up ${o.warmupS} s`);
    const warm = await warmUp({
      url,
      path: '/orders',
      connections: o.connections,
      durationS: o.warmupS,
      idPrefix: 'w',
      amount: 50,
      minAnswers: o.connections,
    });
    await observer.until(() => [...warm].every((id) => observer.seen.has(id)), drainTimeoutMs);

    log(`e2e: closed loop, ${o.connections} connections, ${o.durationS} s`);
    let meter = cpuMeter(pids);
    const closed = await closedLoopPosts({
      url,
      path: '/orders',
      connections: o.connections,
      durationS: o.durationS,
      idPrefix: 'c',
      amount: 50,
    });
    requireAnswered('e2e closed loop', closed);
    const closedTerminal = await terminalFigures(closed, observer, o.durationS, drainTimeoutMs, sut, 'c-');
    const closedCpu = meter.stop();
    log(
      `e2e: closed loop → ${closed.rps} POST/s, ${closedTerminal.terminalPerSecond} terminal orders/s during load, ${closedTerminal.completedPerSecond}/s over the batch`,
    );

    // The maximum: what the closed loop completed per second, whichever is higher of "during the load" and
    // "over the whole batch" (when POSTs outrun the pipeline the backlog is completed after the load).
    const max = Math.max(closedTerminal.terminalPerSecond, closedTerminal.completedPerSecond);
    const runs =
      o.openRate === undefined
        ? o.openFractions.map((fraction) => ({ fraction, rate: Math.max(1, Math.round(max * fraction)) }))
        : [{ fraction: undefined, rate: o.openRate }];
    const runsDone: Array<{ figures: Omit<OpenLoopFigures, 'hops'>; load: OrderLoad }> = [];
    for (const [i, { fraction, rate }] of runs.entries()) {
      await sleep(500);
      log(`e2e: open loop at ${rate}/s, ${o.durationS} s`);
      meter = cpuMeter(pids);
      const open = await openLoopPosts({
        url,
        path: '/orders',
        rate,
        durationS: o.durationS,
        idPrefix: `o${i}`,
        amount: 50,
      });
      requireAnswered(`e2e open loop at ${rate}/s`, { requests: open.sent, ...open });
      const terminal = await terminalFigures(open, observer, o.durationS, drainTimeoutMs, sut, `o${i}-`);
      const cpu = meter.stop();
      log(`e2e: open loop at ${rate}/s → p99 ${terminal.latency.p99} ms POST→terminal`);
      const figures = {
        rate,
        fraction,
        sent: open.sent,
        statuses: open.statuses,
        httpLatency: open.httpLatency,
        maxSendLagMs: open.maxSendLagMs,
        terminal,
        cpu,
      };
      runsDone.push({ figures, load: open });
    }

    const sutRss = rssMiB(sut.pid);
    // The per-hop breakdown after the loads: reading the topics' timestamps meanwhile would add fetches.
    const stamps = await readTopics(sut.brokers!, HOP_TOPICS);
    const opens: OpenLoopFigures[] = [];
    for (const [i, { figures, load }] of runsDone.entries())
      opens.push({ ...figures, hops: await hopFigures(load, stamps, observer, sut, `o${i}-`) });
    const integrity = await integrityCheck(sut, sut.brokers!);
    return {
      closed: {
        connections: o.connections,
        http: stripLoad(closed),
        terminal: closedTerminal,
        cpu: closedCpu,
      },
      open: opens[0]!,
      openMore: opens.slice(1),
      integrity,
      sutRssMiB: sutRss,
    };
  } finally {
    await observer.stop().catch(() => {});
    await sut.stop();
    await db.drop();
  }
}

async function terminalFigures(
  load: OrderLoad,
  observer: Awaited<ReturnType<typeof startObserver>>,
  durationS: number,
  drainTimeoutMs: number,
  sut: Awaited<ReturnType<typeof startSut>>,
  prefix: string,
): Promise<TerminalFigures> {
  const loadEnd = Date.now();
  const ids = [...load.created];
  const start = ids.reduce((min, id) => Math.min(min, load.sentAt.get(id)!), Number.POSITIVE_INFINITY);
  const atEnd = ids.filter((id) => observer.seen.has(id)).length;
  await observer.until(() => ids.every((id) => observer.seen.has(id)), drainTimeoutMs);
  const latency = latencyHistogram();
  let terminal = 0;
  let inWindow = 0;
  let last = 0;
  for (const id of ids) {
    const seen = observer.seen.get(id);
    if (seen === undefined) continue;
    terminal += 1;
    last = Math.max(last, seen);
    if (seen <= start + durationS * 1000) inWindow += 1;
    recordMs(latency, seen - load.sentAt.get(id)!);
  }
  if (terminal === 0)
    throw new NothingMeasuredError(`e2e ${prefix}: none of ${ids.length} created orders reached SHIPPED`);
  const store = latencyHistogram();
  const rows = await sut.sql<{ ms: string }>(
    `select extract(epoch from (updated_at - created_at)) * 1000 as ms from orders.orders where id like '${prefix}%' and status = 'SHIPPED'`,
    'orders',
  );
  for (const row of rows) recordMs(store, Number(row.ms));
  return {
    created: ids.length,
    terminal,
    terminalPerSecond: Math.round(inWindow / durationS),
    completedPerSecond: terminal === 0 ? 0 : Math.round((terminal * 1000) / (last - start)),
    backlogAtEnd: ids.length - atEnd,
    drainMs: Math.max(0, Math.round(last - loadEnd)),
    latency: summarize(latency),
    storeLatency: summarize(store),
  };
}

/** Every order terminal with one payment; nothing dead-lettered; outboxes drained. */
async function integrityCheck(sut: Awaited<ReturnType<typeof startSut>>, brokers: readonly string[]) {
  const states = await sut.sql<{ status: string; payment_status: string; n: string }>(
    'select status, payment_status, count(*) as n from orders.orders group by 1, 2 order by 1, 2',
    'orders',
  );
  const [payments] = await sut.sql<{ n: string; orders: string }>(
    'select count(*) as n, count(distinct order_id) as orders from payments.payments',
    'payments',
  );
  // The last rows' markPublished may trail their publish by a moment.
  let pending = { orders: 0, payments: 0 };
  for (let i = 0; i < 50; i++) {
    const count = async (service: 'orders' | 'payments') => {
      const [row] = await sut.sql<{ n: string }>(
        `select count(*) as n from ${service}.outbox where published_at is null`,
        service,
      );
      return Number(row!.n);
    };
    pending = { orders: await count('orders'), payments: await count('payments') };
    if (pending.orders + pending.payments === 0) break;
    await sleep(100);
  }
  const admin = new Kafka({
    brokers: [...brokers],
    clientId: 'bench-check',
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  let deadLettered = 0;
  try {
    for (const topic of (await admin.listTopics()).filter((t) => t.endsWith('.dlq'))) {
      for (const p of await admin.fetchTopicOffsets(topic)) deadLettered += Number(p.high);
    }
  } finally {
    await admin.disconnect();
  }
  const orders = Object.fromEntries(states.map((s) => [`${s.status}/${s.payment_status}`, Number(s.n)]));
  const total = Object.values(orders).reduce((a, b) => a + b, 0);
  const ok =
    total === (orders['SHIPPED/PAID'] ?? 0) &&
    Number(payments!.n) === total &&
    Number(payments!.orders) === total &&
    pending.orders + pending.payments === 0 &&
    deadLettered === 0;
  return {
    ok,
    orders,
    payments: Number(payments!.n),
    ordersWithPayment: Number(payments!.orders),
    outboxPending: pending,
    deadLettered,
  };
}

function stripLoad<T extends OrderLoad>(result: T): Omit<T, keyof OrderLoad> {
  const { sentAt: _s, created: _c, ...rest } = result;
  return rest;
}
