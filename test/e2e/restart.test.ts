/**
 * `npm start` keeps its data: orders and events still in flight survive a restart of the whole process
 * (embedded broker with a data directory, PGlite data directories, outbox and committed offsets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSystem } from '../../app/system.ts';
import { createOrder } from '../../functions/create-order/index.ts';
import { getOrder } from '../../functions/get-order/index.ts';
import { manifest } from '../../functions/manifest.ts';
import { startLocalBroker } from '../../local/local-broker.ts';
import { loadConfig } from '../../runtime/config.ts';
import { FAST_CONSUMER, testLogger, waitFor } from '../../runtime/kafka/test-kit.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'orderflow-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function boot(functions: typeof manifest) {
  const logger = testLogger();
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', TOPIC_PARTITIONS: '3' });
  const broker = await startLocalBroker({ port: 0, partitions: 3, dataDir: join(dataDir, 'kafka'), logger });
  const system = await startSystem({
    config,
    functions,
    brokers: broker.brokers,
    logger,
    consumer: FAST_CONSUMER,
  });
  await system.host.ready;
  return {
    url: system.host.url!,
    async stop() {
      await system.stop();
      await broker.stop();
    },
  };
}

describe('a restart of the all-in-one process', () => {
  it('keeps orders, and events published before the stop are consumed after it', async () => {
    // First run: only the HTTP functions, so the PaymentRequested events stay unconsumed in Kafka.
    const first = await boot([createOrder, getOrder]);
    const ids = Array.from({ length: 10 }, (_, i) => `restart-${i}`);
    for (const [i, orderId] of ids.entries()) {
      const response = await fetch(`${first.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId, amount: i % 2 === 0 ? '20.00' : '500' }),
      });
      expect(response.status).toBe(201);
    }
    await first.stop();

    // Second run: every function, same data directories.
    const second = await boot(manifest);
    try {
      const views = await waitFor(
        async () => {
          const all = await Promise.all(
            ids.map(
              async (id) => (await (await fetch(`${second.url}/orders/${id}`)).json()) as { status: string },
            ),
          );
          return all.every((v) => v.status === 'SHIPPED' || v.status === 'CANCELLED') ? all : undefined;
        },
        {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: 'every order to reach a terminal state after the restart',
        },
      );
      expect(views.map((v) => v.status)).toEqual(ids.map((_, i) => (i % 2 === 0 ? 'SHIPPED' : 'CANCELLED')));
    } finally {
      await second.stop();
    }
  }, 180_000);
});
