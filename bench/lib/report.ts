/**
 * The human table printed at the end of `npm run bench` (the same figures go to the JSON file): one column
 * per engine (PGlite, PostgreSQL), side by side, so the two compare from one run.
 * @module
 */
import type { ColdStartFigures, ColdStartResult } from '../phases/coldstart.ts';
import type { E2EResult } from '../phases/e2e.ts';
import type { HttpResult, HttpTarget } from '../phases/http.ts';
import type { ConsumerFigures, MessagingResult } from '../phases/messaging.ts';
import type { TracingResult } from '../phases/tracing.ts';
import type { LatencySummary } from './histogram.ts';
import type { HopFigures } from './hops.ts';
import type { MachineInfo } from './machine.ts';
import type { Engine } from './options.ts';

/** The figures of one engine. */
export interface EngineResults {
  engine: Engine;
  /** Where the systems under test kept their data. */
  database: string;
  e2e?: E2EResult;
  http?: HttpResult;
  messaging?: MessagingResult;
  coldStart?: ColdStartResult;
  tracing?: TracingResult;
  /** 1/5/15-minute load averages as each phase started. */
  loadAverageByPhase: Record<string, number[]>;
}

export type PhaseKey = 'e2e' | 'http' | 'messaging' | 'coldStart' | 'tracing';

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  machine: MachineInfo;
  loadAverageAtEnd?: number[];
  config: Record<string, unknown>;
  /** By engine, in the order they ran. */
  engines: Partial<Record<Engine, EngineResults>>;
  /** Failed phases by `<engine> <phase>`: the error (a load that measured nothing is one). */
  errors: Record<string, string>;
}

type Cell = string | undefined;
type Row = [label: string, cells: Cell[]] | [label: string, span: string];

const ENGINE_TITLES: Record<Engine, string> = { pglite: 'PGlite', postgres: 'PostgreSQL' };

export function renderTable(r: BenchResults): string {
  const engines = Object.values(r.engines).filter((e): e is EngineResults => e !== undefined);
  const rows: Row[] = [];
  const m = r.machine;
  rows.push([
    'machine',
    `${m.cores} cores, ${m.cpuModel}, Node ${m.node}, load avg at start ${m.loadAverageAtStart.join(' / ')}`,
  ]);
  rows.push(['code', `${m.commit}${m.dirty ? ' (+ uncommitted changes)' : ''}`]);
  rows.push([
    'config',
    Object.entries(r.config)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', '),
  ]);
  const each = (label: string, cell: (e: EngineResults) => Cell) => {
    const cells = engines.map(cell);
    if (cells.some((c) => c !== undefined)) rows.push([label, cells]);
  };
  rows.push(['', engines.map((e) => ENGINE_TITLES[e.engine])]);
  each('database', (e) => e.database);
  e2eRows(engines, each);
  httpRows(each);
  messagingRows(each);
  coldStartRows(each);
  tracingRows(each);
  each('load avg (1 min) per phase', (e) => {
    const byPhase = Object.entries(e.loadAverageByPhase).map(([phase, load]) => `${phase} ${load[0]}`);
    return byPhase.length > 0 ? byPhase.join(', ') : undefined;
  });
  if (r.loadAverageAtEnd) rows.push(['load avg at end', r.loadAverageAtEnd.join(' / ')]);
  for (const [phase, error] of Object.entries(r.errors))
    rows.push([`${phase} FAILED`, error.split('\n')[0]!]);
  return layout(rows, engines.length);
}

type Each = (label: string, cell: (e: EngineResults) => Cell) => void;

function e2eRows(engines: EngineResults[], each: Each): void {
  each('E2E closed loop', (e) => {
    const c = e.e2e?.closed;
    return (
      c && `${c.http.rps} POST/s, ${c.connections} conns (HTTP ${latShort(c.http.latency)})${non2xx(c.http)}`
    );
  });
  each('  terminal orders/s', (e) => {
    const t = e.e2e?.closed.terminal;
    return (
      t && `${t.terminalPerSecond}/s during load, ${t.completedPerSecond}/s over the batch (${t.terminal})`
    );
  });
  each('  backlog at end', (e) => {
    const t = e.e2e?.closed.terminal;
    return t && `${t.backlogAtEnd} orders, drained in ${t.drainMs} ms`;
  });
  each('  POST→terminal', (e) => e.e2e && lat(e.e2e.closed.terminal.latency));
  each('  CPU (cores)', (e) => e.e2e && fmtCpu(e.e2e.closed.cpu));
  const opens = Math.max(0, ...engines.map((e) => (e.e2e ? 1 + (e.e2e.openMore ?? []).length : 0)));
  for (let i = 0; i < opens; i++) {
    const open = (e: EngineResults) => (i === 0 ? e.e2e?.open : e.e2e?.openMore?.[i - 1]);
    const fractions = engines.map((e) => open(e)?.fraction).filter((f) => f !== undefined);
    each(`E2E open loop${fractions.length > 0 ? ` ${fractions[0]} × max` : ''}`, (e) => {
      const o = open(e);
      return o && `${o.terminal.terminalPerSecond} terminal/s offered ${o.rate}/s`;
    });
    each('  HTTP from intended send', (e) => {
      const o = open(e);
      return o && `${lat(o.httpLatency)}${non2xx({ statuses: o.statuses, errors: 0 })}`;
    });
    each('  POST→terminal', (e) => open(e) && lat(open(e)!.terminal.latency));
    each('  store created→updated', (e) => open(e) && lat(open(e)!.terminal.storeLatency));
    hopRows((e) => open(e)?.hops, each);
    each('  CPU (cores)', (e) => {
      const o = open(e);
      return o && `${fmtCpu(o.cpu)}; generator lag max ${o.maxSendLagMs} ms`;
    });
  }
  each('  integrity', (e) => {
    const g = e.e2e?.integrity;
    return (
      g &&
      `${g.ok ? 'ok' : 'FAILED'}: ${JSON.stringify(g.orders)}, payments ${g.payments}, dead-lettered ${g.deadLettered}`
    );
  });
  each('  SUT RSS after the loads', (e) => e.e2e && `${e.e2e.sutRssMiB} MiB`);
}

/** The per-hop breakdown of one open-loop run (medians and p99 of each hop). */
function hopRows(hops: (e: EngineResults) => HopFigures | undefined, each: Each): void {
  const labels: Record<keyof HopFigures['hops'], string> = {
    requestPublished: '    POST→PaymentRequested published',
    paymentRow: '    →payment row (payments.created_at)',
    completedPublished: '    →PaymentCompleted published',
    orderPaid: '    PaymentCompleted→order PAID (inbox)',
    shipped: '    PaymentCompleted→shipped (shipped_at)',
    shippedSeen: '    shipped→OrderShipped seen',
  };
  each('  per hop (p50 / p99 ms)', (e) => {
    const h = hops(e);
    return h && `${h.orders} orders with every timestamp (${h.incomplete} without)`;
  });
  for (const [key, label] of Object.entries(labels) as [keyof HopFigures['hops'], string][]) {
    each(label, (e) => {
      const hop = hops(e)?.hops[key];
      return hop && `${hop.p50} / ${hop.p99}`;
    });
  }
}

function httpRows(each: Each): void {
  const target = (t: HttpTarget | undefined) =>
    t && `${t.http.rps} req/s (${latShort(t.http.latency)})${non2xx(t.http)}; CPU ${fmtCpu(t.cpu)}`;
  each('HTTP bare Hono (one insert)', (e) => target(e.http?.bareHono));
  each('HTTP same-work Hono (order+outbox)', (e) => target(e.http?.sameWork));
  each('HTTP create-order', (e) => target(e.http?.createOrder));
  each('  create-order ÷ same work (runtime)', (e) => e.http && `${e.http.runtimeOverhead} ×`);
  each('  same work ÷ bare (guarantees)', (e) => e.http && `${e.http.guaranteeCost} ×`);
  each('  create-order ÷ bare', (e) => e.http && `${e.http.ratio} ×`);
}

function messagingRows(each: Each): void {
  const consumer = (c: ConsumerFigures | undefined, unit: string) =>
    c &&
    `${c.perSecond} ${unit}/s (${c.messages}${c.complete ? '' : ' of the backlog, time limit'} in ${c.ms} ms); CPU ${fmtCpu(c.cpu)}`;
  each('raw kafkajs (one insert)', (e) => consumer(e.messaging?.rawKafkajs, 'msgs'));
  each('same-work kafkajs (pay+inbox+outbox)', (e) => consumer(e.messaging?.sameWork, 'msgs'));
  each('process-payment', (e) => consumer(e.messaging?.processPayment, 'events'));
  each('  process-payment ÷ same work (runtime)', (e) => e.messaging && `${e.messaging.runtimeOverhead} ×`);
  each('  same work ÷ raw (guarantees)', (e) => e.messaging && `${e.messaging.guaranteeCost} ×`);
  each('  process-payment ÷ raw', (e) => e.messaging && `${e.messaging.ratio} ×`);
}

function coldStartRows(each: Each): void {
  const pick = (e: EngineResults, name: 'getOrder' | 'processPayment'): ColdStartFigures | undefined =>
    e.coldStart?.[name];
  for (const [name, key] of [
    ['get-order', 'getOrder'],
    ['process-payment', 'processPayment'],
  ] as const) {
    each(`cold start ${name}`, (e) => {
      const c = pick(e, key);
      return c && `${c.medianMs} ms (runs ${c.runsMs.join(', ')})`;
    });
    each('  ends at', (e) => pick(e, key)?.first);
    each('  to first /healthz 200', (e) => {
      const c = pick(e, key);
      return c && `${c.healthzMedianMs} ms (runs ${c.healthzRunsMs.join(', ')})`;
    });
    each('  RSS at ready → after load', (e) => {
      const c = pick(e, key);
      return c && `${c.rssAtReadyMiB} → ${c.rssAfterLoadMiB} MiB`;
    });
    each('  load', (e) => pick(e, key)?.load);
  }
}

function tracingRows(each: Each): void {
  const pair = (p: TracingResult['createOrder'] | undefined, unit: string) =>
    p &&
    `off ${p.off} → on ${p.on} ${unit}/s (${Math.abs(p.costPercent)} % ${p.costPercent >= 0 ? 'slower' : 'faster'}; runs off ${p.runs.off.join(', ')}, on ${p.runs.on.join(', ')})`;
  each('tracing create-order', (e) => pair(e.tracing?.createOrder, 'req'));
  each('tracing process-payment', (e) => pair(e.tracing?.processPayment, 'events'));
  each('  tracing on', (e) => e.tracing && `OTLP/HTTP to the orchestrator, ${e.tracing.received}`);
}

const lat = (l: LatencySummary) => `p50 ${l.p50} · p95 ${l.p95} · p99 ${l.p99} · max ${l.max} ms`;
const latShort = (l: { p50: number; p99: number }) => `p50 ${l.p50} · p99 ${l.p99} ms`;

/** Non-2xx answers and errors of a load, when there were any. */
function non2xx(load: { statuses: Record<string, number>; errors: number }): string {
  const other = Object.entries(load.statuses).filter(([k, n]) => k !== '2xx' && n > 0);
  const parts = other.map(([k, n]) => `${k} ${n}`);
  if (load.errors > 0) parts.push(`errors ${load.errors}`);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

function fmtCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** Label column, then one column per engine; a row with one string spans the engine columns. */
function layout(rows: Row[], columns: number): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(0, ...rows.map(([, v]) => (Array.isArray(v) && i < columns - 1 ? (v[i] ?? '—').length : 0))),
  );
  return rows
    .map(([k, v]) => {
      const cells = Array.isArray(v) ? v.map((c, i) => (c ?? '—').padEnd(widths[i]!)).join('  │  ') : v;
      return `${k.padEnd(width)}  ${cells}`.trimEnd();
    })
    .join('\n');
}
