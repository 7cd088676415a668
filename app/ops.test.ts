/**
 * The ops tooling in the running system (every function of the manifest, embedded broker, PGlite): `/ops`
 * needs the bearer token and is not mounted without one, the gateway does not forward it, and the CLI
 * (`runOps`) and HTTP see and redrive the same dead letters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest } from '../functions/manifest.ts';
import { processPayment } from '../functions/process-payment/index.ts';
import type { RunningBroker } from '../local/kafka-broker/index.ts';
import { startLocalBroker } from '../local/local-broker.ts';
import { loadConfig } from '../runtime/config.ts';
import { createKafkaClient, sharedProducer } from '../runtime/kafka/client.ts';
import { FAST_CONSUMER, testLogger, waitFor } from '../runtime/kafka/test-kit.ts';
import type { DeadLetterSummary } from '../runtime/ops/index.ts';
import { createGateway, gatewayRoutes, opsRoutes, startGateway } from './gateway.ts';
import { runOps } from './ops.ts';
import { type RunningSystem, startSystem } from './system.ts';

const TOKEN = 'test-ops-token-0123456789';
const logger = testLogger();
let broker: RunningBroker;
let system: RunningSystem;
let url: string;
const env = (extra: Record<string, string> = {}) =>
  loadConfig({ DATA_DIR: 'memory://', PORT: '0', HOST: '127.0.0.1', TOPIC_PARTITIONS: '1', ...extra });

async function cli(...argv: string[]): Promise<{ status: number; out: string }> {
  let out = '';
  const config = env({ KAFKA_BROKERS: broker.brokers.join(',') });
  const status = await runOps(argv, config, logger, { out: (text) => (out += text) });
  return { status, out };
}
const ops = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
    },
  });
const pending = async () =>
  (
    (await (await ops('/ops/dlq?function=process-payment', { token: TOKEN })).json()) as DeadLetterSummary[]
  )[0]!;

beforeAll(async () => {
  broker = await startLocalBroker({ port: 0, partitions: 1, logger });
  system = await startSystem({
    config: env({ OPS_TOKEN: TOKEN }),
    functions: manifest,
    brokers: broker.brokers,
    logger,
    consumer: FAST_CONSUMER,
  });
  await system.host.ready;
  url = system.host.url!;
  // A poison message on process-payment's topic: it cannot be decoded, so it is dead-lettered at once.
  const kafka = createKafkaClient({ brokers: broker.brokers, clientId: 'test', logger });
  const producer = sharedProducer(kafka);
  await producer.connect();
  await producer.send({
    topic: processPayment.events[0].topic,
    acks: -1,
    messages: [{ key: 'poison-1', value: 'not json' }],
  });
  await producer.disconnect();
  await waitFor(async () => (await pending()).count === 1, { what: 'the poison message dead-lettered' });
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await broker?.stop();
});

describe('/ops security', () => {
  it.each([
    ['no token', undefined],
    ['a wrong token', 'wrong-token-wrong-token!!'],
    ['a prefix of the token', TOKEN.slice(0, -1)],
  ])('answers 401 with %s and does nothing', async (_, token) => {
    for (const [path, method, body] of [
      ['/ops/dlq', 'GET', undefined],
      ['/ops/dlq/process-payment/0', 'GET', undefined],
      ['/ops/dlq/process-payment/redrive', 'POST', '{"all":true}'],
      ['/ops/outbox/orders/republish', 'POST', '{"all":true}'],
    ] as const) {
      const response = await ops(path, {
        method,
        ...(body === undefined ? {} : { body }),
        ...(token ? { token } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ops"');
      expect(await response.json()).toMatchObject({ status: 'error', code: 'unauthorized' });
    }
    expect(await pending()).toMatchObject({ count: 1, pending: 1 });
  });

  it('is not mounted without OPS_TOKEN', async () => {
    const bare = await startSystem({
      config: env(),
      functions: manifest.filter((fn) => fn.kind === 'http'),
      brokers: broker.brokers,
      logger,
    });
    try {
      for (const token of [undefined, TOKEN]) {
        const response = await fetch(`${bare.host.url}/ops/dlq`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(404);
      }
    } finally {
      await bare.stop();
    }
  });

  it('is never forwarded by the gateway', async () => {
    const upstreams = Object.fromEntries(manifest.map((fn) => [fn.id, url]));
    const gateway = createGateway({ routes: gatewayRoutes(manifest), upstreams, timeoutMs: 2_000, logger });
    const response = await gateway.request('/ops/dlq', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
    // The console page is the gateway's own.
    const page = await gateway.request('/console');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/console/console.js"');
  });

  it('is forwarded by the gateway when configured (GATEWAY_OPS_UPSTREAM), the token still checked behind it', async () => {
    const upstreams = { ...Object.fromEntries(manifest.map((fn) => [fn.id, url])), ops: url };
    const gateway = await startGateway({
      routes: [...gatewayRoutes(manifest), ...opsRoutes()],
      upstreams,
      timeoutMs: 5_000,
      logger,
      port: 0,
      host: '127.0.0.1',
    });
    try {
      expect((await fetch(`${gateway.url}/ops/dlq`)).status).toBe(401);
      const response = await fetch(`${gateway.url}/ops/dlq?function=process-payment`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as DeadLetterSummary[])[0]!.functionId).toBe('process-payment');
    } finally {
      await gateway.stop();
    }
  });
});

describe('dead letters through the CLI and HTTP', () => {
  it('`dlq list --json` shows the entry with its reason', async () => {
    const { status, out } = await cli('dlq', 'list', '--function', 'process-payment', '--json');
    expect(status).toBe(0);
    const [summary] = JSON.parse(out) as DeadLetterSummary[];
    expect(summary).toMatchObject({ functionId: 'process-payment', count: 1, pending: 1 });
    expect(summary!.entries[0]).toMatchObject({
      entry: '0:0',
      key: 'poison-1',
      originalTopic: processPayment.events[0].topic,
      kind: 'invalid-message',
    });
    expect(summary!.entries[0]!.reason).toMatch(/malformed JSON/);
    const text = await cli('dlq', 'list');
    expect(text.out).toContain('process-payment: 1 dead letter(s), 1 not redriven');
    expect(text.out).toContain('ship-order: 0 dead letter(s)');
    // track-order folds process-payment.dlq too: the poison copy there is skipped, not dead-lettered again.
    expect(text.out).toContain('track-order: 0 dead letter(s)');
  });

  it('`dlq redrive --dry-run` sends nothing; HTTP redrive marks the entry, which comes back dead-lettered again', async () => {
    const dry = await cli('dlq', 'redrive', 'process-payment', '--all', '--dry-run', '--json');
    expect(JSON.parse(dry.out)).toEqual({
      dryRun: true,
      results: [{ entry: '0:0', outcome: 'would-redrive', detail: 'redrive 1' }],
    });
    expect(await pending()).toMatchObject({ count: 1, pending: 1 });

    const response = await ops('/ops/dlq/process-payment/redrive', {
      method: 'POST',
      token: TOKEN,
      body: '{"entries":["0:0"]}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      dryRun: false,
      results: [{ entry: '0:0', outcome: 'redriven', detail: 'redrive 1' }],
    });
    // Still poison: the copy is dead-lettered again, with its redrive count; the first entry is kept, marked.
    const after = await waitFor(async () => ((await pending()).count === 2 ? pending() : undefined), {
      what: 'the redriven copy dead-lettered again',
    });
    expect(after.entries[0]!.redriven).toMatchObject({ count: 1 });
    expect(after.entries[1]).toMatchObject({ key: 'poison-1', redriveCount: 1, redriven: null });
    const again = await cli('dlq', 'redrive', 'process-payment', '--entry', '0:0');
    expect(again).toEqual({ status: 1, out: expect.stringContaining('0:0\tskipped\talready redriven') });
  });

  it('`dlq show` and GET /ops/dlq/:function/:entry give headers and payload; unknown ones are 404', async () => {
    const shown = JSON.parse((await cli('dlq', 'show', 'process-payment', '0', '--json')).out);
    expect(shown).toMatchObject({ payload: 'not json', headers: { 'dlq-kind': 'invalid-message' } });
    expect((await ops('/ops/dlq/process-payment/0:0', { token: TOKEN })).status).toBe(200);
    expect((await ops('/ops/dlq/process-payment/0:99', { token: TOKEN })).status).toBe(404);
    expect((await ops('/ops/dlq/no-such-function/0', { token: TOKEN })).status).toBe(404);
  });

  it('lists parked outbox rows and consumer lag over HTTP', async () => {
    const parked = (await (await ops('/ops/outbox/parked', { token: TOKEN })).json()) as {
      service: string;
    }[];
    expect(parked.map((p) => p.service).sort()).toEqual(['orders', 'payments']);
    const lag = (await (await ops('/ops/lag', { token: TOKEN })).json()) as { functionId: string }[];
    expect(lag.map((l) => l.functionId)).toContain('ship-order');
  });
});
