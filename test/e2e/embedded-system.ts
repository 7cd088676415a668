/**
 * The whole manifest as the end-to-end suites run it: the embedded broker, PGlite in memory, one HTTP port on
 * 127.0.0.1 and the tests' fast consumer timings. Each suite passes what it varies (partitions, config
 * variables, an ops token, tracing).
 * @module
 */
import { type RunningSystem, type SystemOptions, startSystem } from '../../app/system.ts';
import { manifest } from '../../functions/manifest.ts';
import type { RunningBroker } from '../../local/kafka-broker/index.ts';
import { startLocalBroker } from '../../local/local-broker.ts';
import { loadConfig } from '../../runtime/config.ts';
import { FAST_CONSUMER, testLogger } from '../../runtime/kafka/test-kit.ts';

export interface EmbeddedSystem {
  broker: RunningBroker;
  system: RunningSystem;
  /** `http://127.0.0.1:<port>` of the system's HTTP server. */
  url: string;
  /** Stops the system, then the broker. */
  stop(): Promise<void>;
}

/**
 * Starts the system and waits until every consumer has joined its group.
 * @example
 * const running = await startEmbeddedSystem({ partitions: 2, env: { CONSUMER_RETRY_ATTEMPTS: '1' } });
 */
export async function startEmbeddedSystem(
  options: {
    partitions: number;
    /** More configuration variables (e.g. `CONSUMER_RETRY_ATTEMPTS`). */
    env?: Record<string, string>;
  } & Pick<SystemOptions, 'opsToken' | 'tracing'>,
): Promise<EmbeddedSystem> {
  const logger = testLogger();
  const config = loadConfig({
    DATA_DIR: 'memory://',
    PORT: '0',
    HOST: '127.0.0.1',
    TOPIC_PARTITIONS: String(options.partitions),
    ...options.env,
  });
  const broker = await startLocalBroker({ port: 0, partitions: options.partitions, logger });
  const system = await startSystem({
    config,
    functions: manifest,
    brokers: broker.brokers,
    logger,
    consumer: FAST_CONSUMER,
    ...(options.opsToken === undefined ? {} : { opsToken: options.opsToken }),
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  });
  await system.host.ready;
  return {
    broker,
    system,
    url: system.host.url!,
    async stop() {
      await system.stop();
      await broker.stop();
    },
  };
}
