/**
 * Runs the embedded broker from the command line:
 *
 *     npm run broker -- --port 9092 [--host 127.0.0.1] [--data-dir DIR] [--partitions N] [--no-auto-create] [--verbose|--quiet]
 *
 * Prints the address it listens on and runs until SIGINT/SIGTERM, then shuts down cleanly.
 * @module
 */
import { parseArgs } from 'node:util';
import { createStderrLogger, startBroker } from './index.ts';

const USAGE =
  'usage: npm run broker -- [--port 9092] [--host 127.0.0.1] [--data-dir DIR] [--partitions N] [--no-auto-create] [--verbose|--quiet]';

/** A bad command line: reported together with the usage line. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'data-dir': { type: 'string', short: 'd' },
        partitions: { type: 'string' },
        'no-auto-create': { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function parseInteger(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const values = parseCommandLine();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = parseInteger('port', values.port, 9092, 0);
  const defaultPartitions = parseInteger('partitions', values.partitions, 1, 1);
  const broker = await startBroker({
    port,
    host: values.host,
    dataDir: values['data-dir'],
    defaultPartitions,
    autoCreateTopics: !values['no-auto-create'],
    logger: createStderrLogger(values.verbose ? 'debug' : values.quiet ? 'warn' : 'info'),
  });
  process.stdout.write(`kafka broker listening on ${broker.brokers.join(',')}\n`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    if (!values.quiet) process.stderr.write(`${signal}: shutting down\n`);
    broker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    err instanceof UsageError ? `${message}\n${USAGE}\n` : `kafka broker failed: ${message}\n`,
  );
  process.exit(err instanceof UsageError ? 2 : 1);
});
