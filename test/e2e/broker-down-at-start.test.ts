/**
 * A broker that is down when the system starts is not a reason to exit: the HTTP functions serve at once (their
 * events wait in the outbox), `/readyz` says Kafka is connecting, and once the broker is up the relays publish
 * and the consumers join by themselves. (Seen in the chaos harness: a create-order restarted while the broker
 * was down exited with KafkaJSConnectionError and stayed down.)
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startSystem } from '../../app/system.ts';
import { manifest } from '../../functions/manifest.ts';
import { startLocalBroker } from '../../local/local-broker.ts';
import { IN_MEMORY_DATA_DIR, loadConfig } from '../../runtime/config.ts';
import { FAST_CONSUMER, testLogger, waitFor } from '../../runtime/kafka/test-kit.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the system started while its broker is down', () => {
  it('accepts orders at once and handles them when the broker comes up', async () => {
    const logger = testLogger();
    const brokerPort = await freePort();
    const config = loadConfig({ DATA_DIR: IN_MEMORY_DATA_DIR, PORT: '0', HOST: '127.0.0.1' });
    const system = await startSystem({
      config,
      functions: manifest,
      brokers: [`127.0.0.1:${brokerPort}`],
      logger,
      consumer: FAST_CONSUMER,
    });
    let broker: Awaited<ReturnType<typeof startLocalBroker>> | undefined;
    try {
      const url = system.host.url!;
      const created = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId: 'no-broker-1', amount: 50 }),
      });
      expect(created.status).toBe(201);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.kafka).toMatch(
        /^connecting/,
      );

      broker = await startLocalBroker({ port: brokerPort, partitions: 3, logger });
      await system.host.ready;
      const view = await waitFor(
        async () => {
          const order = (await (await fetch(`${url}/orders/no-broker-1`)).json()) as { status: string };
          return order.status === 'SHIPPED' ? order : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'the order to ship once the broker is up' },
      );
      expect(view.status).toBe('SHIPPED');
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      await system.stop();
      await broker?.stop();
    }
  }, 120_000);
});
