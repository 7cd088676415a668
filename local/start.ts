/**
 * `npm start`: the whole system in one process — the embedded Kafka-protocol broker (unless
 * `KAFKA_BROKERS` is set), PGlite (unless `DATABASE_URL` is set), every function of the manifest, one HTTP port.
 *
 *   npm start                  data kept under ./.data (DATA_DIR): a restart keeps orders and in-flight events
 *   npm start -- --memory      nothing kept
 *   npm start -- --port 8080   same as PORT=8080
 * @module
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { onShutdownSignal } from '../app/signals.ts';
import { startSystem } from '../app/system.ts';
import { manifest } from '../functions/manifest.ts';
import { exitOnConfigError, IN_MEMORY_DATA_DIR, loadConfig } from '../runtime/config.ts';
import { createLogger } from '../runtime/logger.ts';
import { startLocalBroker } from './local-broker.ts';

export interface LauncherArgs {
  memory: boolean;
  port: string | undefined;
}

function parseLauncherArgs(argv: readonly string[]): LauncherArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: { memory: { type: 'boolean', default: false }, port: { type: 'string' } },
    strict: true,
  });
  return { memory: values.memory ?? false, port: values.port };
}

async function main(): Promise<void> {
  const args = parseLauncherArgs(process.argv.slice(2));
  const env = {
    ...process.env,
    ...(args.port === undefined ? {} : { PORT: args.port }),
    ...(args.memory ? { DATA_DIR: IN_MEMORY_DATA_DIR } : {}),
  };
  const config = exitOnConfigError(() => loadConfig(env));
  const logger = createLogger({ level: config.logLevel, name: 'orderflow' });
  const persistent = config.dataDir !== IN_MEMORY_DATA_DIR;

  const broker =
    config.kafkaBrokers === undefined
      ? await startLocalBroker({
          ...(persistent ? { dataDir: join(config.dataDir, 'kafka') } : {}),
          partitions: config.topicPartitions,
          logger,
        })
      : undefined;
  const brokers = config.kafkaBrokers ?? broker!.brokers;
  const system = await startSystem({ config, functions: manifest, brokers, logger });
  onShutdownSignal(logger, async () => {
    await system.stop();
    await broker?.stop();
  });
  await system.host.ready;

  const url = system.host.url!;
  const where = persistent ? `data in ${config.dataDir}/` : 'in memory (nothing kept)';
  process.stdout.write(
    [
      '',
      `orderflow is up on ${url}  (Kafka: ${broker ? `embedded broker ${brokers.join(',')}` : brokers.join(',')}; ${where})`,
      '',
      'Try:',
      `  curl -s -X POST ${url}/orders -H 'content-type: application/json' -d '{"amount": 50}'`,
      `  curl -s -X POST ${url}/orders -H 'content-type: application/json' -d '{"orderId": "big-1", "amount": "450.00"}'`,
      `  curl -s ${url}/orders/big-1`,
      '',
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
