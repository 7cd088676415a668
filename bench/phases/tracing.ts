/**
 * Phase 5 (`--tracing`), what tracing costs (issue 11): create-order under the HTTP phase's closed-loop
 * load, and process-payment draining the messaging phase's backlog, each with tracing off (as deployed
 * without `OTEL_*`; `OTEL_SDK_DISABLED=true` so an `OTEL_*` of the caller's shell cannot turn it on) and on,
 * in the order off, on, on, off (so a drift of the machine's load during the phase weighs on both alike), the
 * two runs of each averaged. On: `OTEL_TRACES_EXPORTER=otlp` (OTLP/HTTP, the SDK's default protobuf encoding and batching) to a
 * throw-away receiver in the orchestrator that answers 200 to every export and counts them. Every span is
 * made, serialised and sent over loopback, as a deployment with a collector beside it would; nothing is stored.
 * create-order: both systems start together; each is measured with the other idle beside it.
 * process-payment: one broker and backlog per run (both would share the `payments` group on one broker).
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BenchDatabase, benchDatabase } from '../lib/database.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type Sut, startBrokerProcess, startSut } from '../lib/processes.ts';
import { measure } from './http.ts';
import { drainProcessPayment, withBroker } from './messaging.ts';

export interface TracingPair {
  /** Mean of the runs with tracing off, and with it on. */
  off: number;
  on: number;
  runs: { off: number[]; on: number[] };
  /** (off − on) ÷ off, in percent: how much slower tracing on is. */
  costPercent: number;
}

export interface TracingResult {
  exporter: string;
  /** req/s */
  createOrder: TracingPair;
  /** events/s */
  processPayment: TracingPair;
  /** Export requests the receiver got (each a batch of spans) and their bytes. */
  exportsReceived: number;
  bytesReceived: number;
  /** For the table: exports and bytes received (spans are not decoded from protobuf). */
  received: string;
}

const OFF = { OTEL_SDK_DISABLED: 'true' };

export async function tracingPhase(o: BenchOptions, log: (line: string) => void): Promise<TracingResult> {
  const receiver = await startReceiver();
  const on = {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  };
  try {
    const createOrder = await createOrderPair(o, log, on);
    log(`tracing: create-order off ${createOrder.off} → on ${createOrder.on} req/s`);
    const drain = (env: Record<string, string>) =>
      withBroker(o, (broker) => drainProcessPayment(o, broker, env));
    const drains = [];
    for (const env of [OFF, on, on, OFF]) drains.push((await drain(env)).perSecond);
    const processPayment = pair([drains[0]!, drains[3]!], [drains[1]!, drains[2]!]);
    log(`tracing: process-payment off ${processPayment.off} → on ${processPayment.on} events/s`);
    if (receiver.exports === 0) throw new Error('tracing on: the OTLP receiver got no export');
    return {
      exporter: 'OTLP/HTTP protobuf to a receiver in the orchestrator',
      createOrder,
      processPayment,
      exportsReceived: receiver.exports,
      bytesReceived: receiver.bytes,
      received: `${receiver.exports} exports (${Math.round(receiver.bytes / 1024)} KiB)`,
    };
  } finally {
    await receiver.close();
  }
}

async function createOrderPair(
  o: BenchOptions,
  log: (line: string) => void,
  on: Record<string, string>,
): Promise<TracingPair> {
  const broker = await startBrokerProcess(o.partitions);
  const started: Array<{ sut: Sut; db: BenchDatabase }> = [];
  try {
    const start = async (env: Record<string, string>) => {
      const db = await benchDatabase(o.databaseUrl);
      const sut = await startSut({
        mode: 'functions',
        functions: ['create-order'],
        brokers: broker.brokers,
        logLevel: o.logLevel,
        partitions: o.partitions,
        env,
        ...(db.url === undefined ? {} : { databaseUrl: db.url }),
      });
      started.push({ sut, db });
      return sut;
    };
    const [offSut, onSut] = await Promise.all([start(OFF), start(on)]);
    log(`tracing: create-order off, on, on, off, ${o.connections} connections, ${o.durationS} s each`);
    const rps = [];
    for (const [i, sut] of [offSut, onSut, onSut, offSut].entries()) {
      const what = `create-order tracing ${sut === onSut ? 'on' : 'off'}`;
      const other = sut === onSut ? offSut : onSut;
      rps.push((await measure(o, sut, what, `t${i}`, { idle: other.pid })).http.rps);
    }
    return pair([rps[0]!, rps[3]!], [rps[1]!, rps[2]!]);
  } finally {
    for (const { sut, db } of started) {
      await sut.stop();
      await db.drop();
    }
    await broker.stop();
  }
}

function pair(offRuns: number[], onRuns: number[]): TracingPair {
  const mean = (runs: number[]) => Math.round(runs.reduce((a, b) => a + b, 0) / runs.length);
  const off = mean(offRuns);
  const on = mean(onRuns);
  return {
    off,
    on,
    runs: { off: offRuns, on: onRuns },
    costPercent: Math.round(((off - on) / off) * 1000) / 10,
  };
}

/** An OTLP/HTTP endpoint that accepts every export (200, empty body) and counts them. */
async function startReceiver() {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    req.on('end', () => {
      exports += 1;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get exports() {
      return exports;
    },
    get bytes() {
      return bytes;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
