/**
 * The worker-thread entry of the embedded broker (`startLocalBroker({ thread: true })`, local/local-broker.ts):
 * starts it from `workerData`, sends its log lines and its address to the parent, stops on `'stop'`.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BrokerLogger } from './kafka-broker/index.ts';
import {
  type BrokerLevel,
  type BrokerThreadData,
  type BrokerThreadMessage,
  startOnPreferredPort,
} from './local-broker.ts';

const port = parentPort!;
const data = workerData as BrokerThreadData;
const send = (message: BrokerThreadMessage) => port.postMessage(message);
const enabled = new Set<BrokerLevel>(data.levels);
const line =
  (level: BrokerLevel) =>
  (message: string, fields?: object): void => {
    if (!enabled.has(level)) return;
    try {
      send({ type: 'log', level, message, ...(fields === undefined ? {} : { fields }) });
    } catch {
      // A field the structured clone cannot copy (a function, a socket): send the fields as JSON text instead.
      send({ type: 'log', level, message, fields: { fields: safeJson(fields) } });
    }
  };

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
const logger: BrokerLogger = {
  debug: line('debug'),
  info: line('info'),
  warn: line('warn'),
  error: line('error'),
};

startOnPreferredPort(data, data.port, logger).then(
  (broker) => {
    port.on('message', (message) => {
      if (message === 'stop')
        broker.stop().then(
          () => send({ type: 'stopped' }),
          (error: unknown) => {
            logger.error('broker stop failed', { err: String(error) });
            send({ type: 'stopped' });
          },
        );
    });
    send({ type: 'listening', brokers: broker.brokers, host: broker.host, port: broker.port });
  },
  (error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    send({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
      ...(code === undefined ? {} : { code }),
    });
  },
);
