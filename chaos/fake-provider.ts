/**
 * A payment provider for the chaos harness, speaking what `functions/process-payment/http-provider.ts`
 * expects: `POST /charges` `{orderId, amount, currency}` with `Idempotency-Key`. It approves amounts up to
 * `limit` and declines larger ones ("insufficient funds"); a key seen before gets the first answer again
 * (another amount for the same key: 422). With faults on, every request fails instead: 503, 500, 429 with
 * `Retry-After: 1`, or no answer at all (half of those after recording the charge, as when a provider
 * charges and the response is lost).
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Random } from './random.ts';

export interface FakeProviderOptions {
  /** Largest approved amount, decimal text in major units (default "300"). */
  limit?: string;
  /** Chooses the fault of each request while faults are on. */
  random: Random;
}

export interface FakeProviderStats {
  requests: number;
  /** Distinct idempotency keys charged (approved or declined). */
  charges: number;
  approved: number;
  declined: number;
  /** Requests answered from an earlier charge of the same key. */
  replays: number;
  /** Same key, another amount. */
  conflicts: number;
  /** Requests failed on purpose, by kind. */
  faults: Record<FaultKind, number>;
}

export type FaultKind = '503' | '500' | '429' | 'hang' | 'hang-after-charge';

export interface FakeProvider {
  readonly url: string;
  /** Turns the fault switch on or off. */
  setFaulty(faulty: boolean): void;
  stats(): FakeProviderStats;
  /** The order ids the provider approved (money taken). */
  approvedOrders(): string[];
  close(): Promise<void>;
}

interface Charge {
  amount: string;
  status: number;
  body: string;
}

/** @example const provider = await startFakeProvider({ random: seededRandom(1, STREAMS.provider) }); */
export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const limitCents = toCents(options.limit ?? '300');
  const charges = new Map<string, Charge>();
  const hanging = new Set<ServerResponse>();
  let faulty = false;
  let sequence = 0;
  const stats: FakeProviderStats = {
    requests: 0,
    charges: 0,
    approved: 0,
    declined: 0,
    replays: 0,
    conflicts: 0,
    faults: { '503': 0, '500': 0, '429': 0, hang: 0, 'hang-after-charge': 0 },
  };

  const reply = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);

  const charge = (key: string, amount: string): Charge => {
    const existing = charges.get(key);
    if (existing !== undefined) return existing;
    const cents = toCents(amount);
    sequence += 1;
    const approved = cents <= limitCents;
    const result: Charge = {
      amount,
      status: 200,
      body: JSON.stringify(
        approved
          ? { status: 'approved', id: `ch_${sequence}` }
          : { status: 'declined', reason: 'insufficient funds' },
      ),
    };
    charges.set(key, result);
    stats.charges += 1;
    if (approved) stats.approved += 1;
    else stats.declined += 1;
    return result;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    stats.requests += 1;
    if (req.method !== 'POST' || req.url !== '/charges') return reply(res, 404, '{"error":"not found"}');
    const key = req.headers['idempotency-key'];
    let body: { amount?: unknown } = {};
    try {
      body = JSON.parse(text) as { amount?: unknown };
    } catch {}
    if (typeof key !== 'string' || key === '' || typeof body.amount !== 'string' || !isDecimal(body.amount))
      return reply(res, 400, '{"error":"Idempotency-Key and a decimal amount are required"}');
    if (faulty) {
      const kind = options.random.pick<FaultKind>(['503', '500', '429', 'hang', 'hang-after-charge']);
      stats.faults[kind] += 1;
      if (kind === 'hang' || kind === 'hang-after-charge') {
        if (kind === 'hang-after-charge') charge(key, body.amount);
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      return kind === '429'
        ? reply(res, 429, '{"error":"slow down"}', { 'retry-after': '1' })
        : reply(res, Number(kind), '{"error":"provider unavailable"}');
    }
    const known = charges.get(key);
    if (known !== undefined && known.amount !== body.amount) {
      stats.conflicts += 1;
      return reply(res, 422, '{"error":"Idempotency-Key reused with another amount"}');
    }
    if (known !== undefined) stats.replays += 1;
    const result = charge(key, body.amount);
    reply(res, result.status, result.body);
  };

  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    req.on('end', () => handle(req, res, text));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://127.0.0.1:${port}`,
    setFaulty(on) {
      faulty = on;
      // Requests left hanging by the outage answer nothing now: their callers time out, as with a real one.
    },
    stats: () => structuredClone(stats),
    approvedOrders: () =>
      [...charges.entries()].filter(([, c]) => c.body.includes('"approved"')).map(([key]) => key),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function isDecimal(text: string): boolean {
  return /^\d{1,12}(\.\d{1,2})?$/.test(text);
}

/** "123.4" → 12340n. */
export function toCents(text: string): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2) || '0');
}
