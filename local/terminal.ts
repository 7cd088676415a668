/**
 * What `npm start` shows a person: its log destination (pino-pretty for a terminal, JSON lines otherwise, as
 * `resolveLogFormat` decides) and the banner, printed once start-up has stopped logging so that it is the
 * last thing on screen.
 * @module
 */
import pino, { type DestinationStream } from 'pino';
import type { LogFormat } from '../runtime/logger.ts';

export interface LauncherOutput {
  /** What the logger writes to: synchronous, so that nothing logged before the banner lands after it. */
  destination: DestinationStream;
  /** The format in effect (pretty falls back to JSON when pino-pretty is not installed). */
  format: LogFormat;
  /** Resolves once nothing has been logged for `quietMs` (at most `maxMs`). */
  settled(quietMs?: number, maxMs?: number): Promise<void>;
}

/**
 * Builds the launcher's log destination for `format`.
 * @example
 * const output = await launcherOutput(resolveLogFormat(env.LOG_FORMAT, process.stdout.isTTY === true));
 * const logger = createLogger({ level: 'info', name: 'orderflow', destination: output.destination });
 */
export async function launcherOutput(
  format: LogFormat,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<LauncherOutput> {
  let inner: DestinationStream | undefined;
  let effective = format;
  if (format === 'pretty') {
    try {
      const { default: pretty } = await import('pino-pretty');
      inner = pretty({
        sync: true,
        colorize: process.stdout.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,name,component',
        messageFormat: '{if component}[{component}] {end}{msg}',
        singleLine: true,
      });
    } catch {
      warn('pino-pretty is not installed (run npm install): logs stay JSON lines.');
      effective = 'json';
    }
  }
  inner ??= pino.destination({ dest: 1, sync: true });
  let lastWrite = Date.now();
  const destination: DestinationStream = {
    write(line: string) {
      lastWrite = Date.now();
      return inner.write(line);
    },
  };
  return {
    destination,
    format: effective,
    async settled(quietMs = 150, maxMs = 2000) {
      const deadline = Date.now() + maxMs;
      while (Date.now() - lastWrite < quietMs && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

export interface BannerFacts {
  url: string;
  /** e.g. `embedded broker 127.0.0.1:9092`, or the KAFKA_BROKERS list. */
  kafka: string;
  /** e.g. `data in .data/`, `in memory (nothing kept)`. */
  data: string;
  /** The `/ops` bearer token, and whether it was generated for this run (no `OPS_TOKEN`). */
  ops?: { token: string; generated: boolean };
}

/** The lines `npm start` ends its start-up with: where it listens, and what to try. */
export function banner({ url, kafka, data, ops }: BannerFacts): string {
  const post = `curl -s -X POST ${url}/orders -H 'content-type: application/json' -d`;
  return [
    '',
    `orderflow is up on ${url}`,
    `  Kafka: ${kafka}; ${data}`,
    ...(ops === undefined
      ? []
      : [
          `  Console: ${url}/console#token=${ops.token}`,
          `  Ops token: ${ops.token}${ops.generated ? '  (generated for this run; OPS_TOKEN sets one)' : ''}`,
          `  Dead letters: npm run ops -- dlq list   or   curl -s -H 'authorization: Bearer <token>' ${url}/ops/dlq`,
        ]),
    '',
    'Try:',
    `  ${post} '{"orderId": "ok-1", "amount": 50}'`,
    `  curl -s ${url}/orders/ok-1          # SHIPPED / PAID a moment later`,
    `  ${post} '{"orderId": "big-1", "amount": "450.00"}'`,
    `  curl -s ${url}/orders/big-1         # CANCELLED / FAILED: insufficient funds`,
    '',
    'Ctrl-C stops it.',
    '',
  ].join('\n');
}
