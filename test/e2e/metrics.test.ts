/**
 * `/metrics` of the all-in-one system after a known workload: N orders (some declined), one poison message, one
 * invalid request and one body too large. The exposition is parsed with a Prometheus text parser and the counts
 * must be exact. Real parts only: embedded broker, kafkajs, PGlite.
 */
import { getMetricsFromIterator, type PromMetrics } from 'prom2javascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics } from '../../contracts/events.ts';
import type { RunningBroker } from '../../local/kafka-broker/index.ts';
import { createKafkaClient } from '../../runtime/kafka/client.ts';
import { testLogger, waitFor } from '../../runtime/kafka/test-kit.ts';
import { type EmbeddedSystem, startEmbeddedSystem } from './embedded-system.ts';

const AMOUNTS = [50, 120, 450, 10, 999, 300];
const PAID = AMOUNTS.filter((a) => a <= 300).length;
const DECLINED = AMOUNTS.length - PAID;

let running: EmbeddedSystem;
let broker: RunningBroker;
let url: string;

beforeAll(async () => {
  running = await startEmbeddedSystem({ partitions: 2, env: { CONSUMER_RETRY_ATTEMPTS: '1' } });
  ({ broker, url } = running);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

/** `/metrics`, parsed by a Prometheus text-format parser (which throws on a malformed exposition). */
async function scrape(): Promise<PromMetrics> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  return getMetricsFromIterator(text.split('\n')[Symbol.iterator]());
}

interface Sample {
  labels: Record<string, string>;
  value?: number;
  count?: number;
}

function samples(families: PromMetrics, name: string): Sample[] {
  return (families[name]?.data ?? []) as Sample[];
}

/** Sum of the values (or histogram counts) of `name` whose labels include `labels`. */
function total(families: PromMetrics, name: string, labels: Record<string, string>): number {
  return samples(families, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + (s.count ?? s.value ?? 0), 0);
}

const consumed = (families: PromMetrics, fn: string, outcome: string) =>
  total(families, 'messaging_client_consumed_messages_total', { function: fn, outcome });

describe('GET /metrics after a known workload', () => {
  it('counts HTTP requests, consumed and dead-lettered messages exactly, and lag per partition', async () => {
    for (const [i, amount] of AMOUNTS.entries()) {
      const response = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId: `m-${i}`, amount }),
      });
      expect(response.status).toBe(201);
    }
    const invalid = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 'lots' }),
    });
    expect(invalid.status).toBe(400);
    const tooLarge = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1, pad: 'x'.repeat(70_000) }),
    });
    expect(tooLarge.status).toBe(413);

    // One poison message: not an event at all, dead-lettered by process-payment without an attempt.
    const producer = createKafkaClient({
      brokers: broker.brokers,
      clientId: 'metrics-test',
      logger: testLogger(),
    }).producer();
    await producer.connect();
    await producer.send({ topic: Topics.paymentRequests, messages: [{ key: 'poison', value: 'not json' }] });
    await producer.disconnect();

    const expected = {
      'process-payment': { handled: AMOUNTS.length, dead_lettered: 1 },
      'apply-payment-result': { handled: AMOUNTS.length, dead_lettered: 0 },
      'ship-order': { handled: PAID, dead_lettered: 0 },
      'notify-payment-failed': { handled: DECLINED, dead_lettered: 0 },
    };
    const settled = async () => {
      const families = await scrape();
      const done = Object.entries(expected).every(
        ([fn, want]) =>
          consumed(families, fn, 'handled') >= want.handled &&
          consumed(families, fn, 'dead_lettered') >= want.dead_lettered,
      );
      const unpublished = total(families, 'orderflow_outbox_unpublished_rows', {});
      return done && unpublished === 0 ? families : undefined;
    };
    await waitFor(settled, { timeoutMs: 60_000 });
    // Quiet for a moment: a late duplicate or a second dead letter would show now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const families = await scrape();

    const http = (labels: Record<string, string>) =>
      total(families, 'http_server_request_duration_seconds', { function: 'create-order', ...labels });
    expect(http({ http_response_status_code: '201', http_route: '/orders' })).toBe(AMOUNTS.length);
    expect(http({ http_response_status_code: '400' })).toBe(1);
    expect(http({ http_response_status_code: '413' })).toBe(1);
    expect(
      total(families, 'orderflow_http_rejected_requests_total', {
        function: 'create-order',
        reason: 'validation',
      }),
    ).toBe(1);
    expect(
      total(families, 'orderflow_http_rejected_requests_total', {
        function: 'create-order',
        reason: 'payload_too_large',
      }),
    ).toBe(1);
    expect(total(families, 'http_server_active_requests', {})).toBe(1); // this scrape

    for (const [fn, want] of Object.entries(expected)) {
      expect(consumed(families, fn, 'handled'), fn).toBe(want.handled);
      expect(consumed(families, fn, 'dead_lettered'), fn).toBe(want.dead_lettered);
      expect(consumed(families, fn, 'duplicate'), fn).toBe(0);
    }

    const lag = samples(families, 'orderflow_consumer_lag_messages').filter(
      (s) =>
        s.labels.function === 'process-payment' &&
        s.labels.messaging_destination_name === Topics.paymentRequests,
    );
    expect(lag.map((s) => s.labels.messaging_destination_partition_id).sort()).toEqual(['0', '1']);
    for (const s of lag) expect(Number(s.value)).toBe(0);
    for (const s of samples(families, 'orderflow_consumer_lag_messages'))
      expect(Number(s.value)).toBeGreaterThanOrEqual(0);

    // Outbox: every row published (at least one event per order and service; attempt records come on top),
    // and one latency observation per published row.
    for (const service of ['orders', 'payments']) {
      const published = total(families, 'orderflow_outbox_published_total', { service });
      expect(published, service).toBeGreaterThanOrEqual(AMOUNTS.length);
      expect(total(families, 'orderflow_outbox_publish_latency_seconds', { service }), service).toBe(
        published,
      );
    }
    expect(total(families, 'orderflow_outbox_parked_rows', {})).toBe(0);
    expect(samples(families, 'orderflow_outbox_oldest_unpublished_age_seconds').map((s) => s.value)).toEqual([
      0, 0,
    ]);

    // Database and process.
    expect(
      total(families, 'orderflow_db_transaction_duration_seconds', { service: 'orders', outcome: 'commit' }),
    ).toBeGreaterThan(0);
    expect(
      total(families, 'orderflow_consumer_rebalances_total', { function: 'ship-order' }),
    ).toBeGreaterThanOrEqual(1);
    expect(families.process_cpu_user_seconds_total?.type).toBe('counter');
    expect(families.http_server_request_duration_seconds?.type).toBe('histogram');
  }, 120_000);
});
