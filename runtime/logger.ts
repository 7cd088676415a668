/**
 * Logging: pino, JSON lines to stdout (or a given destination). Pretty printing is a job for the reader
 * (`| npx pino-pretty`), not a dependency of the runtime.
 * @module
 */
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

export type LogLevel = Level | 'silent';

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
