/**
 * The client side of a chaos run: a steady stream of orders with client-chosen ids, each POSTed until it is
 * acknowledged (2xx) with the same id and amount, whatever happens to the server meanwhile: that is what
 * makes a retried POST safe, and what the invariants are checked against.
 * @module
 */
import type { Random } from './random.ts';

export interface LoadOptions {
  /** `http://host:port` of create-order. */
  url: string;
  /** Orders started per second. */
  rate: number;
  /** Amounts and nothing else come from here (ids are `<prefix>-<n>`). */
  random: Random;
  idPrefix: string;
  /** Share of orders above the provider's limit (declined "insufficient funds"). Default 0.3. */
  overLimitShare?: number;
  /** Per-request timeout. Default 5000. */
  requestTimeoutMs?: number;
}

export interface AckedOrder {
  orderId: string;
  amount: string;
  /** `performance.now()` of the acknowledgement. */
  ackedAt: number;
  /** POSTs it took (1 = first try). */
  tries: number;
}

export interface LoadResult {
  started: number;
  acked: AckedOrder[];
  /** Orders still not acknowledged when the load was stopped (its deadline passed). */
  unacked: { orderId: string; amount: string }[];
  /** Retried POSTs by cause: `500`, `503`, `ECONNREFUSED`, `timeout`, … */
  retries: Record<string, number>;
  /** Non-retriable answers (4xx): never expected, each is a finding. */
  rejected: { orderId: string; status: number; body: string }[];
}

export interface Load {
  /** Stops starting orders; resolves when every started one is acknowledged, rejected or `deadlineMs` passed. */
  stop(deadlineMs: number): Promise<LoadResult>;
  /** Acknowledged so far. */
  ackedCount(): number;
  /** Orders in flight (started, not yet acknowledged). */
  pending(): number;
  /** The id of the latest acknowledged order. */
  lastAcked(): string | undefined;
}

/** @example const load = startLoad({ url, rate: 10, random, idPrefix: 'chaos-7' }); … await load.stop(60_000); */
export function startLoad(options: LoadOptions): Load {
  const overLimitShare = options.overLimitShare ?? 0.3;
  const timeoutMs = options.requestTimeoutMs ?? 5_000;
  const acked: AckedOrder[] = [];
  const rejected: LoadResult['rejected'] = [];
  const retries: Record<string, number> = {};
  const inFlight = new Map<string, { amount: string; done: Promise<void> }>();
  /** Orders given up on at the deadline, never acknowledged: they count as unacknowledged, not as nothing. */
  const abandoned: { orderId: string; amount: string }[] = [];
  let started = 0;
  let stopping = false;

  const amountOf = () => {
    const cents =
      options.random.float() < overLimitShare
        ? options.random.int(30_001, 50_000)
        : options.random.int(100, 30_000);
    return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  };

  const place = async (orderId: string, amount: string) => {
    const body = JSON.stringify({ orderId, amount });
    for (let tries = 1; ; tries++) {
      if (stopping && deadlinePassed()) {
        abandoned.push({ orderId, amount });
        return;
      }
      let cause: string;
      try {
        const response = await fetch(`${options.url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        if (response.ok) {
          acked.push({ orderId, amount, ackedAt: performance.now(), tries });
          return;
        }
        if (response.status < 500 && response.status !== 429) {
          rejected.push({ orderId, status: response.status, body: text.slice(0, 300) });
          return;
        }
        cause = String(response.status);
      } catch (error) {
        cause = errorCause(error);
      }
      retries[cause] = (retries[cause] ?? 0) + 1;
      await sleep(Math.min(2_000, 100 * 2 ** Math.min(tries, 5)) * (0.5 + Math.random() / 2));
    }
  };

  let deadline = Number.POSITIVE_INFINITY;
  const deadlinePassed = () => performance.now() > deadline;

  const t0 = performance.now();
  const tick = () => {
    if (stopping) return;
    const due = Math.floor(((performance.now() - t0) / 1000) * options.rate);
    while (started < due) {
      started += 1;
      const orderId = `${options.idPrefix}-${started}`;
      const amount = amountOf();
      const done = place(orderId, amount).finally(() => inFlight.delete(orderId));
      inFlight.set(orderId, { amount, done });
    }
  };
  const timer = setInterval(tick, Math.max(5, Math.min(100, 1000 / options.rate / 2)));

  return {
    ackedCount: () => acked.length,
    pending: () => inFlight.size,
    lastAcked: () => acked.at(-1)?.orderId,
    async stop(deadlineMs) {
      stopping = true;
      clearInterval(timer);
      deadline = performance.now() + deadlineMs;
      const waiting = [...inFlight.entries()];
      await Promise.race([Promise.all(waiting.map(([, o]) => o.done)), sleep(deadlineMs + 6_000)]);
      return {
        started,
        acked,
        unacked: [
          ...abandoned,
          ...[...inFlight.entries()].map(([orderId, o]) => ({ orderId, amount: o.amount })),
        ],
        retries,
        rejected,
      };
    },
  };
}

function errorCause(error: unknown): string {
  if (!(error instanceof Error)) return 'error';
  if (error.name === 'TimeoutError') return 'timeout';
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : error.name;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
