/**
 * `npm start`: the whole system in one process — the embedded Kafka-protocol broker (unless
 * `KAFKA_BROKERS` is set), PGlite (unless `DATABASE_URL` is set), every function of the manifest, one HTTP port.
 *
 *   npm start                  data kept under ./.data (DATA_DIR): a restart keeps orders and in-flight events
 *   npm start -- --memory      nothing kept
 *   npm start -- --port 8080   same as PORT=8080
 *
 * Logs: pino-pretty's lines in a terminal, JSON lines otherwise or with LOG_FORMAT=json (`resolveLogFormat`).
 * The banner (URL, what to try) comes last, once start-up has stopped logging: on stdout with pretty logs,
 * on stderr with JSON logs, so that stdout stays JSON lines.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { onShutdownSignal } from '../app/signals.ts';
import { startSystem } from '../app/system.ts';
import { manifest } from '../functions/manifest.ts';
import { exitOnConfigError, IN_MEMORY_DATA_DIR, loadConfig } from '../runtime/config.ts';
import { createLogger, resolveLogFormat } from '../runtime/logger.ts';
import { startLocalBroker } from './local-broker.ts';
import { banner, launcherOutput } from './terminal.ts';

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
  const { config, format } = exitOnConfigError(() => ({
    config: loadConfig(env),
    format: resolveLogFormat(process.env.LOG_FORMAT, process.stdout.isTTY === true),
  }));
  const output = await launcherOutput(format);
  const logger = createLogger({ level: config.logLevel, name: 'orderflow', destination: output.destination });
  const persistent = config.dataDir !== IN_MEMORY_DATA_DIR;

  const broker =
    config.kafkaBrokers === undefined
      ? await startLocalBroker({
          ...(persistent ? { dataDir: join(config.dataDir, 'kafka') } : {}),
          partitions: config.topicPartitions,
          logger,
          // Its own thread: the broker's protocol work takes the second core, not the functions' event loop.
          thread: true,
        })
      : undefined;
  const brokers = config.kafkaBrokers ?? broker!.brokers;
  // `npm start` always serves /ops: with OPS_TOKEN when set, else a token made for this run and printed.
  const opsToken = config.opsToken ?? randomBytes(24).toString('base64url');
  // The all-in-one process is its own migrate job.
  const system = await startSystem({ config, functions: manifest, brokers, logger, opsToken, migrate: true });
  onShutdownSignal(logger, async () => {
    await system.stop();
    await broker?.stop();
  });
  await system.host.ready;

  await output.settled();
  const text = banner({
    url: system.host.url!,
    kafka: broker ? `embedded broker ${brokers.join(',')}` : brokers.join(','),
    data: persistent ? `data in ${config.dataDir}/` : 'in memory (nothing kept)',
    ops: { token: opsToken, generated: config.opsToken === undefined },
  });
  (output.format === 'pretty' ? process.stdout : process.stderr).write(text);
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
