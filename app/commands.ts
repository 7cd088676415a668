/**
 * The commands of the container entry point (`app/main.ts`, which loads this module once it has turned on
 * Node's compile cache): `serve`, `migrate`, `topics`, `ops`; usage there.
 * @module
 */
import { parseArgs } from 'node:util';
import { openStores, STORE_SERVICES } from '../db/open-stores.ts';
import { findFunction, manifest } from '../functions/manifest.ts';
import { type Config, databaseTarget, exitOnConfigError, loadConfig } from '../runtime/config.ts';
import type { AnyFunction } from '../runtime/define.ts';
import { createLogger, type Logger } from '../runtime/logger.ts';
import { onShutdownSignal } from './signals.ts';
import { startSystem, topicSpecs } from './system.ts';

const USAGE = 'usage: main serve <function-id…|all> | migrate | topics | ops …';

async function main(argv: readonly string[]): Promise<void> {
  // The ops CLI's code is loaded only for `ops` (a chunk of its own in the bundle).
  if (argv[0] === 'ops') return (await import('./ops-entry.ts')).runOpsMain(argv.slice(1));
  const { positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  const config = exitOnConfigError(() => loadConfig());
  const logger = createLogger({ level: config.logLevel, name: rest[0] ?? command ?? 'orderflow' });
  switch (command) {
    case 'serve':
      return serveCommand(
        config,
        logger,
        rest.length > 0 ? rest : (process.env.FUNCTION_ID ?? '').split(','),
      );
    case 'migrate':
      return migrateCommand(config, logger);
    case 'topics':
      return topicsCommand(config, logger);
    default:
      fail(USAGE);
  }
}

async function serveCommand(config: Config, logger: Logger, ids: readonly string[]): Promise<void> {
  const functions = selectFunctions(ids.filter((id) => id !== ''));
  const brokers = requireBrokers(config);
  // Migrations are the `migrate` job's: serve only checks the schema version, unless MIGRATE_ON_START=true.
  const system = await startSystem({ config, functions, brokers, logger, migrate: config.migrateOnStart });
  onShutdownSignal(logger, () => system.stop());
  logger.info({ functions: functions.map((fn) => fn.id), url: system.host.url }, 'serving');
}

async function migrateCommand(config: Config, logger: Logger): Promise<void> {
  const opened = await openStores(STORE_SERVICES, (service) => databaseTarget(config, service), {
    logger: logger.child({ component: 'db' }),
  });
  await opened.close();
  logger.info({ services: STORE_SERVICES }, 'migrations applied');
}

async function topicsCommand(config: Config, logger: Logger): Promise<void> {
  const [{ createKafkaClient }, { ensureTopics }] = await Promise.all([
    import('../runtime/kafka/client.ts'),
    import('../runtime/kafka/topics.ts'),
  ]);
  const kafka = createKafkaClient({
    brokers: requireBrokers(config),
    clientId: config.kafkaClientId,
    logger,
  });
  const created = await ensureTopics(kafka, topicSpecs(config.topicPartitions));
  logger.info({ created }, 'topics ready');
}

function selectFunctions(ids: readonly string[]): readonly AnyFunction[] {
  if (ids.length === 0) fail(`${USAGE}\nno function id given (argument or FUNCTION_ID)`);
  if (ids.length === 1 && ids[0] === 'all') return manifest;
  return ids.map(
    (id) =>
      findFunction(id) ?? fail(`unknown function "${id}"; known: ${manifest.map((fn) => fn.id).join(', ')}`),
  );
}

function requireBrokers(config: Config): readonly string[] {
  return (
    config.kafkaBrokers ??
    fail('KAFKA_BROKERS: required here (e.g. kafka:9092); only `npm start` embeds a broker')
  );
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // A database behind this build is an operator's step to take, not a bug: its message says which, no stack.
  const expected = error instanceof Error && error.name === 'SchemaBehindError';
  const text =
    error instanceof Error ? (expected ? error.message : (error.stack ?? error.message)) : String(error);
  process.stderr.write(`fatal: ${text}\n`);
  process.exit(1);
});
