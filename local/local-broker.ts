/**
 * The embedded broker as the launcher and the end-to-end tests start it: port 9092 when free (so kcat
 * and other local tools find it), any free port otherwise; broker log lines go to the process logger.
 * @module
 */
import type { Logger } from 'pino';
import { type RunningBroker, startBroker } from './kafka-broker/index.ts';

export interface LocalBrokerOptions {
  dataDir?: string;
  partitions: number;
  logger: Logger;
  /** Preferred port; default 9092. 0 = any free port at once. */
  port?: number;
}

export async function startLocalBroker(options: LocalBrokerOptions): Promise<RunningBroker> {
  const log = options.logger.child({ component: 'kafka-broker' });
  const logger = {
    debug: (message: string, fields?: object) => log.debug(fields ?? {}, message),
    info: (message: string, fields?: object) => log.info(fields ?? {}, message),
    warn: (message: string, fields?: object) => log.warn(fields ?? {}, message),
    error: (message: string, fields?: object) => log.error(fields ?? {}, message),
  };
  const base = {
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    defaultPartitions: options.partitions,
    logger,
  };
  const preferred = options.port ?? 9092;
  try {
    return await startBroker({ ...base, port: preferred });
  } catch (error) {
    if (preferred === 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    log.info({ port: preferred }, 'port in use; the embedded broker takes a free port instead');
    return startBroker({ ...base, port: 0 });
  }
}
