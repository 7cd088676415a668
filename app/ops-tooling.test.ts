/**
 * The ops tooling is built before the host starts (`/ops` routes), so it must not wait for Kafka: with no
 * broker reachable it is ready at once, the outbox side works, and it closes without waiting either.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { testLogger } from '../runtime/kafka/test-kit.ts';
import { createOpsTooling } from './ops-tooling.ts';

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('createOpsTooling', () => {
  it('is ready at once while no broker is reachable, and closes', async () => {
    const started = performance.now();
    const tooling = await createOpsTooling({
      brokers: [`127.0.0.1:${await deadPort()}`],
      clientId: 'ops-tooling-test',
      logger: testLogger(),
      maxRedrives: 3,
      stores: {},
    });
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(tooling.outbox.listParked()).resolves.toEqual([]);
    await tooling.close();
  }, 30_000);
});
