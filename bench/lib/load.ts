/**
 * Load generators, run in the orchestrator's process (never in the system under test's).
 *
 * - Closed loop: autocannon, `connections` clients each sending its next request when the previous answer
 *   arrived. Gives the maximum rate. Each POST carries a fresh order id; `setupRequest` notes when it is sent.
 * - Open loop: requests leave at fixed times (request i at t0 + i/rate) whatever the answers, on as many
 *   keep-alive sockets as needed, and every latency counts from the *intended* send time, so a stall of the
 *   system shows up in the figures instead of pausing the load (no coordinated omission). autocannon's
 *   `overallRate` does not do this: it releases each second's quota as a burst and waits for free connections.
 * @module
 */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { type LatencySummary, latencyHistogram, recordMs, summarize } from './histogram.ts';
import { wallMs } from './time.ts';

export interface ClosedLoopResult {
  /** Responses of any status. */
  requests: number;
  /** 2xx responses per second over the run (what a load measured). */
  rps: number;
  statuses: Record<string, number>;
  errors: number;
  /** autocannon's own (HdrHistogram) latency of the HTTP exchange, ms. */
  latency: { p50: number; p95?: number; p99: number; max: number; mean: number };
  durationS: number;
}

export interface OrderLoad {
  /** Wall time (ms) each created order's POST was sent (closed loop) or was due (open loop). */
  sentAt: Map<string, number>;
  /** Order ids answered 201. */
  created: Set<string>;
}

/** Closed-loop POSTs of `{ orderId, amount }` to `path` for `durationS` with `connections` clients. */
export async function closedLoopPosts(options: {
  url: string;
  path: string;
  connections: number;
  durationS: number;
  idPrefix: string;
  amount: number;
}): Promise<ClosedLoopResult & OrderLoad> {
  const sentAt = new Map<string, number>();
  const created = new Set<string>();
  let seq = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    sampleInt: SAMPLE_MS,
    pipelining: 1,
    requests: [
      {
        method: 'POST',
        path: options.path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req, context) => {
          const id = `${options.idPrefix}-${++seq}`;
          (context as { id?: string }).id = id;
          sentAt.set(id, wallMs());
          return { ...req, body: `{"orderId":"${id}","amount":${options.amount}}` };
        },
        onResponse: (status, _body, context) => {
          if (status === 201) created.add((context as { id: string }).id);
        },
      },
    ],
  });
  // The settling request is an order like the others (the end-to-end phase waits for it to ship too).
  const id = `${options.idPrefix}-settle`;
  sentAt.set(id, wallMs());
  const body = `{"orderId":"${id}","amount":${options.amount}}`;
  if ((await settle(new URL(options.path, options.url), 'POST', body)) === 201) created.add(id);
  return { ...toResult(result), sentAt, created };
}

/**
 * autocannon ends a run by closing its sockets with requests still in flight. The server still does the work
 * of those it has read (create-order commits them), so without waiting a short load leaves a backlog that
 * the next load pays for: on a loaded machine here create-order's backlog from one 0.5 s warm-up took longer
 * than the whole 1 s load after it, which then got no answer at all (`create-order → 0 req/s`). After each
 * run one more request is sent, alone, and its answer awaited (at most 120 s): behind the abandoned ones on
 * PGlite's single connection, or at least after the server caught up. Resolves with its status (0: none).
 */
function settle(target: URL, method: 'GET' | 'POST', body?: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      target,
      {
        method,
        agent: false,
        timeout: 120_000,
        headers:
          body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * The warm-up before a measured closed loop: `durationS` of closed-loop POSTs, repeated until at least
 * `minAnswers` 2xx answers came back (at most `capS`). A warm-up by time alone can end before a freshly
 * started system answered anything (its first requests compile and plan everything; on a loaded 2-core machine
 * that took longer than a 0.5 s warm-up), and the measured load after it then caught that start instead of
 * the steady state. Returns the ids of the orders it created.
 */
export async function warmUp(
  options: Parameters<typeof closedLoopPosts>[0] & { minAnswers: number; capS?: number },
): Promise<Set<string>> {
  const { minAnswers, capS = 60, ...load } = options;
  const deadline = Date.now() + capS * 1000;
  const created = new Set<string>();
  for (let round = 0; created.size < minAnswers && Date.now() < deadline; round++) {
    const r = await closedLoopPosts({ ...load, idPrefix: `${load.idPrefix}${round}` });
    for (const id of r.created) created.add(id);
  }
  return created;
}

/** Closed-loop GETs of one path (the get-order load of the cold-start phase). */
export async function closedLoopGets(options: {
  url: string;
  path: string;
  connections: number;
  durationS: number;
}) {
  const result = await autocannon({
    url: options.url + options.path,
    connections: options.connections,
    duration: options.durationS,
    sampleInt: SAMPLE_MS,
  });
  await settle(new URL(options.path, options.url), 'GET');
  return toResult(result);
}

/**
 * autocannon ends a run only at its next sample after `duration`, and its `requests.total` adds up the
 * per-sample counters: with the default 1 s sample a 0.3 s warm-up ran a whole second, and a 1 s load whose
 * stop timer fired before the first sample counted only what was answered in that first second (0 when the
 * first answers took longer: `create-order → 0 req/s`). Sampling every 100 ms ends a run within 100 ms of its
 * duration; the rate is then taken from the status counters (every response, not sampled) over autocannon's
 * own measured duration.
 */
const SAMPLE_MS = 100;

function toResult(r: autocannon.Result): ClosedLoopResult {
  const statuses: Record<string, number> = {};
  let completed = 0;
  for (const key of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) {
    const n = (r as unknown as Record<string, number>)[key];
    if (n) statuses[key] = n;
    completed += n ?? 0;
  }
  return {
    requests: completed,
    rps: Math.round((statuses['2xx'] ?? 0) / r.duration),
    statuses,
    errors: r.errors + r.timeouts,
    latency: {
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      mean: Math.round(r.latency.average * 100) / 100,
    },
    durationS: r.duration,
  };
}

export interface OpenLoopResult extends OrderLoad {
  rate: number;
  sent: number;
  statuses: Record<string, number>;
  errors: number;
  /** HTTP latency from the intended send time. */
  httpLatency: LatencySummary;
  /** How far behind schedule the generator itself fell at worst (ms): should stay near 0. */
  maxSendLagMs: number;
}

/** Open-loop POSTs at `rate` per second for `durationS`. */
export async function openLoopPosts(options: {
  url: string;
  path: string;
  rate: number;
  durationS: number;
  idPrefix: string;
  amount: number;
  maxSockets?: number;
}): Promise<OpenLoopResult> {
  const target = new URL(options.path, options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 512 });
  const sentAt = new Map<string, number>();
  const created = new Set<string>();
  const statuses: Record<string, number> = {};
  const http = latencyHistogram();
  let errors = 0;
  let maxSendLagMs = 0;
  const total = Math.round(options.rate * options.durationS);
  const interval = 1000 / options.rate;
  const pending = new Set<Promise<void>>();

  const send = (id: string, due: number) => {
    const body = `{"orderId":"${id}","amount":${options.amount}}`;
    const done = new Promise<void>((resolve) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const key = `${Math.floor((res.statusCode ?? 0) / 100)}xx`;
            statuses[key] = (statuses[key] ?? 0) + 1;
            if (res.statusCode === 201) created.add(id);
            recordMs(http, wallMs() - due);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };

  const t0 = wallMs() + 20;
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = wallMs();
      while (i < total && t0 + i * interval <= now) {
        const due = t0 + i * interval;
        maxSendLagMs = Math.max(maxSendLagMs, now - due);
        const id = `${options.idPrefix}-${i}`;
        sentAt.set(id, due);
        send(id, due);
        i += 1;
      }
      if (i >= total) return resolve();
      setTimeout(tick, Math.max(0, Math.min(1, t0 + i * interval - wallMs())));
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  return {
    rate: options.rate,
    sent: total,
    statuses,
    errors,
    httpLatency: summarize(http),
    maxSendLagMs: Math.round(maxSendLagMs * 10) / 10,
    sentAt,
    created,
  };
}
