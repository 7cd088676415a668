/**
 * A complete results object (every phase, both engines) for the report's tests: made-up figures, real shape.
 * @module
 */
import type { ColdStartFigures } from '../phases/coldstart.ts';
import type { E2EResult, OpenLoopFigures, TerminalFigures } from '../phases/e2e.ts';
import type { HttpTarget } from '../phases/http.ts';
import type { ConsumerFigures } from '../phases/messaging.ts';
import type { LatencySummary } from './histogram.ts';
import type { HopFigures } from './hops.ts';
import type { Engine } from './options.ts';
import type { BenchResults, EngineResults } from './report.ts';

const lat = (p50: number): LatencySummary => ({
  count: 100,
  p50,
  p95: p50 * 2,
  p99: p50 * 3,
  max: p50 * 4,
  mean: p50,
});

const terminal = (): TerminalFigures => ({
  created: 1000,
  terminal: 1000,
  terminalPerSecond: 90,
  completedPerSecond: 120,
  backlogAtEnd: 10,
  drainMs: 300,
  latency: lat(40),
  storeLatency: lat(20),
});

const hops = (): HopFigures => ({
  orders: 99,
  incomplete: 1,
  hops: {
    requestPublished: lat(3),
    paymentRow: lat(4),
    completedPublished: lat(5),
    orderPaid: lat(6),
    shipped: lat(7),
    shippedSeen: lat(8),
  },
});

const open = (fraction: number): OpenLoopFigures => ({
  rate: 60,
  fraction,
  sent: 600,
  statuses: { '2xx': 600 },
  httpLatency: lat(5),
  maxSendLagMs: 1.5,
  terminal: terminal(),
  hops: hops(),
  cpu: { sut: 0.8, loadgen: 0.1 },
});

const e2e = (): E2EResult => ({
  closed: {
    connections: 32,
    http: {
      requests: 2000,
      rps: 200,
      statuses: { '2xx': 1990, '5xx': 10 },
      errors: 0,
      latency: { p50: 10, p99: 50, max: 80, mean: 12 },
      durationS: 10,
    },
    terminal: terminal(),
    cpu: { sut: 1.2, loadgen: 0.2 },
  },
  open: open(0.5),
  openMore: [open(0.25)],
  integrity: {
    ok: true,
    orders: { 'SHIPPED/PAID': 3000 },
    payments: 3000,
    ordersWithPayment: 3000,
    outboxPending: { orders: 0, payments: 0 },
    deadLettered: 0,
  },
  sutRssMiB: 300,
});

const target = (rps: number): HttpTarget => ({
  http: {
    requests: rps * 10,
    rps,
    statuses: { '2xx': rps * 10 },
    errors: 0,
    latency: { p50: 5, p99: 20, max: 30, mean: 6 },
    durationS: 10,
  },
  cpu: { sut: 1, loadgen: 0.3 },
});

const consumer = (perSecond: number): ConsumerFigures => ({
  messages: 20_000,
  complete: true,
  perSecond,
  ms: Math.round(20_000_000 / perSecond),
  cpu: { sut: 0.9, broker: 0.3 },
});

const cold = (first: string, load: string): ColdStartFigures => ({
  first,
  runsMs: [300, 320, 310],
  medianMs: 310,
  healthzRunsMs: [280, 290, 285],
  healthzMedianMs: 285,
  rssAtReadyMiB: 90,
  rssAfterLoadMiB: 120,
  load,
});

const engine = (name: Engine): EngineResults => ({
  engine: name,
  database: name === 'pglite' ? 'PGlite (in memory, in the SUT process)' : 'PostgreSQL server 127.0.0.1:5432',
  e2e: e2e(),
  http: {
    connections: 32,
    bareHono: target(2400),
    sameWork: target(1600),
    createOrder: target(800),
    ratio: 0.33,
    runtimeOverhead: 0.5,
    guaranteeCost: 0.67,
  },
  messaging: {
    messages: 20_000,
    partitions: 3,
    rawKafkajs: consumer(3000),
    sameWork: consumer(2000),
    processPayment: consumer(1500),
    ratio: 0.5,
    runtimeOverhead: 0.75,
    guaranteeCost: 0.67,
  },
  coldStart: {
    bundle: '/tmp/orderflow-bench-bundle/main.js',
    database: 'PGlite data directory',
    getOrder: cold(
      '200 on GET /orders/cold-1',
      '10 s of closed-loop GET /orders/cold-1, 16 connections: 2100 req/s',
    ),
    processPayment: cold(
      'its PaymentCompleted seen (event pre-loaded)',
      '10 s of PaymentRequested events offered at 500/s (5000 events)',
    ),
  },
  tracing: {
    exporter: 'OTLP/HTTP protobuf to a receiver in the orchestrator',
    createOrder: { off: 800, on: 760, runs: { off: [790, 810], on: [750, 770] }, costPercent: 5 },
    processPayment: { off: 1500, on: 1450, runs: { off: [1500, 1500], on: [1400, 1500] }, costPercent: 3.3 },
    exportsReceived: 40,
    bytesReceived: 400_000,
    received: '40 exports (391 KiB)',
  },
  loadAverageByPhase: { e2e: [1, 1, 1], http: [1.5, 1, 1], messaging: [1.2, 1, 1], coldStart: [1, 1, 1] },
});

export function fullResults(): BenchResults {
  return {
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:06:00.000Z',
    machine: {
      cores: 2,
      cpuModel: 'AMD EPYC',
      node: 'v20.20.2',
      platform: 'linux x64',
      memoryGiB: 8,
      loadAverageAtStart: [0.5, 0.4, 0.3],
      commit: 'abc1234',
      dirty: false,
    },
    loadAverageAtEnd: [1, 1, 1],
    config: { quick: false, engines: 'pglite + postgres', durationS: 10 },
    engines: { pglite: engine('pglite'), postgres: engine('postgres') },
    errors: {},
  };
}
