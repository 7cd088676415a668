/**
 * Runs the ops CLI as a process: configuration from the environment, logs (warnings and worse) on stderr so
 * that stdout is only the command's output, exit status from the command.
 * @module
 */
import pino from 'pino';
import { exitOnConfigError, loadConfig } from '../runtime/config.ts';
import { createLogger } from '../runtime/logger.ts';
import { OpsUsageError, runOps } from './ops.ts';

export async function runOpsMain(argv: readonly string[]): Promise<void> {
  const config = exitOnConfigError(() => loadConfig());
  const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
  const logger = createLogger({ level, name: 'ops', destination: pino.destination({ dest: 2, sync: true }) });
  try {
    process.exitCode = await runOps(argv, config, logger, { out: (text) => process.stdout.write(text) });
  } catch (error) {
    const usage =
      error instanceof OpsUsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}
