/**
 * The human table printed at the end of `npm run bench` (the same figures go to the JSON file).
 * @module
 */
import type { ColdStartResult } from '../phases/coldstart.ts';
import type { E2EResult } from '../phases/e2e.ts';
import type { HttpResult } from '../phases/http.ts';
import type { MessagingResult } from '../phases/messaging.ts';
import type { LatencySummary } from './histogram.ts';
import type { MachineInfo } from './machine.ts';

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  machine: MachineInfo;
  loadAverageAtEnd?: number[];
  config: Record<string, unknown>;
  e2e?: E2EResult;
  http?: HttpResult;
  messaging?: MessagingResult;
  coldStart?: ColdStartResult;
  errors: Record<string, string>;
  /** 1/5/15-minute load averages as each phase started. */
  loadAverageByPhase: Record<string, number[]>;
}

const lat = (l: LatencySummary) => `p50 ${l.p50} · p95 ${l.p95} · p99 ${l.p99} · max ${l.max} ms`;

export function renderTable(r: BenchResults): string {
  const rows: [string, string][] = [];
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
  if (r.e2e) {
    const { closed, integrity } = r.e2e;
    rows.push([
      'E2E closed loop',
      `${closed.connections} conns: ${closed.http.rps} POST/s (HTTP ${lat({ ...closed.http.latency, p95: Number.NaN, count: 0 }).replace('p95 NaN · ', '')})`,
    ]);
    rows.push([
      '  terminal orders/s',
      `${closed.terminal.terminalPerSecond}/s during load, ${closed.terminal.completedPerSecond}/s over the batch (${closed.terminal.terminal} orders); backlog at end ${closed.terminal.backlogAtEnd}, drained in ${closed.terminal.drainMs} ms`,
    ]);
    rows.push(['  POST→terminal', lat(closed.terminal.latency)]);
    rows.push(['  CPU (cores)', fmtCpu(closed.cpu)]);
    for (const open of [r.e2e.open, ...(r.e2e.openMore ?? [])]) {
      const share = open.fraction === undefined ? '' : ` (${open.fraction} × max)`;
      rows.push([
        `E2E open loop ${open.rate}/s${share}`,
        `${open.terminal.terminalPerSecond} terminal/s; HTTP from intended send ${lat(open.httpLatency)}`,
      ]);
      rows.push(['  POST→terminal', lat(open.terminal.latency)]);
      rows.push(['  store span', `${lat(open.terminal.storeLatency)} (created_at → updated_at)`]);
      rows.push(['  CPU (cores)', `${fmtCpu(open.cpu)}; generator lag max ${open.maxSendLagMs} ms`]);
    }
    rows.push([
      '  integrity',
      `${integrity.ok ? 'ok' : 'FAILED'}: ${JSON.stringify(integrity.orders)}, payments ${integrity.payments}, dead-lettered ${integrity.deadLettered}, SUT RSS ${r.e2e.sutRssMiB} MiB`,
    ]);
  }
  if (r.http) {
    const h = r.http;
    rows.push([
      'HTTP bare Hono',
      `${h.bareHono.http.rps} req/s (p50 ${h.bareHono.http.latency.p50} · p99 ${h.bareHono.http.latency.p99} ms), ${h.connections} conns; CPU ${fmtCpu(h.bareHono.cpu)}`,
    ]);
    rows.push([
      'HTTP create-order',
      `${h.createOrder.http.rps} req/s (p50 ${h.createOrder.http.latency.p50} · p99 ${h.createOrder.http.latency.p99} ms); CPU ${fmtCpu(h.createOrder.cpu)}`,
    ]);
    rows.push(['  ratio', `${h.ratio} × bare Hono`]);
  }
  if (r.messaging) {
    const g = r.messaging;
    rows.push([
      'raw kafkajs consumer',
      `${g.rawKafkajs.perSecond} msgs/s (${g.messages} in ${g.rawKafkajs.ms} ms, ${g.partitions} partitions); CPU ${fmtCpu(g.rawKafkajs.cpu)}`,
    ]);
    rows.push([
      'process-payment',
      `${g.processPayment.perSecond} events/s (${g.processPayment.ms} ms); CPU ${fmtCpu(g.processPayment.cpu)}`,
    ]);
    rows.push(['  ratio', `${g.ratio} × raw kafkajs`]);
  }
  if (r.coldStart) {
    for (const [name, c] of [
      ['get-order', r.coldStart.getOrder],
      ['process-payment', r.coldStart.processPayment],
    ] as const) {
      rows.push([
        `cold start ${name}`,
        `median ${c.medianMs} ms (runs ${c.runsMs.join(', ')}; ${r.coldStart.database})`,
      ]);
      rows.push(['  RSS', `${c.rssAtReadyMiB} MiB at ready → ${c.rssAfterLoadMiB} MiB after ${c.load}`]);
    }
  }
  for (const [phase, error] of Object.entries(r.errors))
    rows.push([`${phase} FAILED`, error.split('\n')[0]!]);
  const byPhase = Object.entries(r.loadAverageByPhase ?? {}).map(([phase, load]) => `${phase} ${load[0]}`);
  if (byPhase.length > 0) rows.push(['load avg (1 min) per phase', byPhase.join(', ')]);
  if (r.loadAverageAtEnd) rows.push(['load avg at end', r.loadAverageAtEnd.join(' / ')]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

function fmtCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
