/**
 * Logging: pino, JSON lines to stdout (or a given destination). Containers always write JSON; `npm start`
 * picks a format with `resolveLogFormat` and, for a terminal, hands pino-pretty in as the destination
 * (local/start.ts), so the runtime and the bundles never depend on it.
 * @module
 */
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { ConfigError } from './config.ts';
import { traceFields } from './tracing/tracing.ts';

export type LogLevel = Level | 'silent';

/** `json`: one JSON object per line. `pretty`: pino-pretty's coloured, human-readable lines. */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * The format of `npm start`'s logs, from `LOG_FORMAT` (`json` or `pretty`; empty or unset = decide by the
 * terminal) and whether stdout is a terminal: pretty for a person, JSON for a file, a pipe or a collector.
 * @throws ConfigError naming `LOG_FORMAT` when it is neither.
 * @example
 * const format = resolveLogFormat(process.env.LOG_FORMAT, process.stdout.isTTY === true);
 */
export function resolveLogFormat(value: string | undefined, isTTY: boolean): LogFormat {
  const chosen = value?.trim().toLowerCase();
  if (chosen === undefined || chosen === '') return isTTY ? 'pretty' : 'json';
  if ((LOG_FORMATS as readonly string[]).includes(chosen)) return chosen as LogFormat;
  throw new ConfigError([
    {
      variable: 'LOG_FORMAT',
      message: `must be one of ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(value)})`,
    },
  ]);
}

export interface LoggerOptions {
  level: LogLevel;
  /** Appears as `name` on every line, e.g. the function id of a container. */
  name?: string;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
}

/**
 * Creates the process logger. Lines carry `level` as a label, an ISO `time`, and errors logged as
 * `{ err }` with their stack. Credentials in headers are redacted.
 * @example
 * const logger = createLogger({ level: config.logLevel, name: 'orderflow' });
 * logger.info({ port }, 'listening');
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      ...(options.name === undefined ? {} : { name: options.name }),
      timestamp: pino.stdTimeFunctions.isoTime,
      // With tracing on, each line written inside a span names it (`trace_id`, `span_id`); else nothing.
      mixin: traceFields,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['headers.authorization', 'headers.cookie', '*.headers.authorization', '*.headers.cookie'],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing: for tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger };
