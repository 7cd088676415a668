/**
 * Default broker logger: one concise line per event on stderr, warn and above only, so tests and
 * embedding applications stay quiet.
 * @module
 */
import type { BrokerLogger, LogFields } from './api.ts';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

function format(level: Level, msg: string, fields?: LogFields): string {
  const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  return `[kafka-broker] ${level.toUpperCase()} ${msg}${extra}\n`;
}

/**
 * A logger writing lines at `minLevel` and above to stderr.
 *
 * @example
 * const logger = createStderrLogger('info');
 */
export function createStderrLogger(minLevel: Level = 'warn'): BrokerLogger {
  const min = LEVELS.indexOf(minLevel);
  const at =
    (level: Level) =>
    (msg: string, fields?: LogFields): void => {
      if (LEVELS.indexOf(level) >= min) process.stderr.write(format(level, msg, fields));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything. */
export const silentLogger: BrokerLogger = { debug() {}, info() {}, warn() {}, error() {} };
