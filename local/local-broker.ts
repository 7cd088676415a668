/**
 * The embedded broker as the launcher and the end-to-end tests start it: port 9092 when free (so kcat
 * and other local tools find it), any free port otherwise; broker log lines go to the process logger.
 * `thread: true` (`npm start`) runs it in a worker thread of its own (`./broker-thread.ts`): the protocol
 * work then uses the second core instead of the event loop that serves HTTP and runs the consumers.
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { type BrokerLogger, type RunningBroker, startBroker } from './kafka-broker/index.ts';

export interface LocalBrokerOptions {
  dataDir?: string;
  partitions: number;
  logger: Logger;
  /** Preferred port; default 9092. 0 = any free port at once. */
  port?: number;
  /** Run the broker in a worker thread (default false: in this thread). */
  thread?: boolean;
}

/** What the broker thread is started with (structured-cloned: no logger, only which levels to send back). */
export interface BrokerThreadData {
  dataDir?: string;
  partitions: number;
  port: number;
  levels: readonly BrokerLevel[];
}

export type BrokerLevel = keyof BrokerLogger;

/** Messages from the broker thread. */
export type BrokerThreadMessage =
  | { type: 'listening'; brokers: string[]; host: string; port: number }
  | { type: 'log'; level: BrokerLevel; message: string; fields?: object }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'stopped' };

const LEVELS: readonly BrokerLevel[] = ['debug', 'info', 'warn', 'error'];

export async function startLocalBroker(options: LocalBrokerOptions): Promise<RunningBroker> {
  const log = options.logger.child({ component: 'kafka-broker' });
  const preferred = options.port ?? 9092;
  if (options.thread === true) {
    return startBrokerThread(log, {
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      partitions: options.partitions,
      port: preferred,
      levels: LEVELS.filter((level) => log.isLevelEnabled(level)),
    });
  }
  const logger: BrokerLogger = {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  };
  return startOnPreferredPort(options, preferred, logger);
}

/** `preferred`, or a free port when that one is taken (logged at info). */
export async function startOnPreferredPort(
  options: { dataDir?: string; partitions: number },
  preferred: number,
  logger: BrokerLogger,
): Promise<RunningBroker> {
  const base = {
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    defaultPartitions: options.partitions,
    logger,
  };
  try {
    return await startBroker({ ...base, port: preferred });
  } catch (error) {
    if (preferred === 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    logger.info('port in use; the embedded broker takes a free port instead', { port: preferred });
    return startBroker({ ...base, port: 0 });
  }
}

/**
 * Starts `./broker-thread.ts` in a worker and resolves once its broker listens. Its log lines come back as
 * messages (only the levels `log` has enabled); `stop()` asks it to stop (files fsynced and closed), then
 * ends the thread.
 */
function startBrokerThread(log: Logger, data: BrokerThreadData): Promise<RunningBroker> {
  const worker = import.meta.url.endsWith('.ts')
    ? // From source: `tsx file.ts` registers its loader in this thread only, so the thread registers it first.
      new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); ` +
          `return import(${JSON.stringify(new URL('./broker-thread.ts', import.meta.url).href)}); })`,
        { eval: true, workerData: data, name: 'kafka-broker' },
      )
    : new Worker(new URL('./broker-thread.js', import.meta.url), { workerData: data, name: 'kafka-broker' });
  // Each line it logs names its thread (`thread`: the worker's threadId; the main thread's lines have none).
  const threadLog = log.child({ thread: worker.threadId });
  let stopped: Promise<void> | undefined;
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`the broker thread exited (code ${code}) before listening`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.on('message', (message: BrokerThreadMessage) => {
      if (message.type === 'log') threadLog[message.level](message.fields ?? {}, message.message);
      else if (message.type === 'failed')
        reject(
          Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code }),
        );
      else if (message.type === 'listening') {
        worker.off('exit', onExit);
        worker.off('error', reject);
        worker.on('error', (error) => threadLog.error({ err: error }, 'broker thread failed'));
        resolve({
          brokers: message.brokers,
          host: message.host,
          port: message.port,
          stop() {
            stopped ??= new Promise<void>((done) => {
              worker.once('exit', () => done());
              worker.on('message', (m: BrokerThreadMessage) => {
                if (m.type === 'stopped') void worker.terminate();
              });
              worker.postMessage('stop');
            });
            return stopped;
          },
        });
      }
    });
  });
}
