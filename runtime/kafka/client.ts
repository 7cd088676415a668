/**
 * The kafkajs client and the process-wide idempotent producer. kafkajs is imported in `runtime/kafka/`
 * and nowhere else, so it stays swappable.
 * @module
 */
import { Kafka, type LogEntry, type logCreator, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from 'pino';

/** How to reach the cluster and who we are. */
export interface KafkaClientOptions {
  /** `host:port` of one or more bootstrap brokers. */
  brokers: readonly string[];
  /** Names this process in broker logs and metrics, e.g. the function id. */
  clientId: string;
  /** kafkajs logs go here (child logger with `component: 'kafkajs'`); its level decides kafkajs' level. */
  logger: Logger;
  /** Connect timeout per broker; kafkajs default is 1 s. */
  connectionTimeoutMs?: number;
}

const TO_KAFKAJS_LEVEL: Record<string, logLevel> = {
  silent: logLevel.NOTHING,
  fatal: logLevel.ERROR,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
  trace: logLevel.DEBUG,
};

/** The kafkajs level matching a pino level name (unknown names → INFO). */
export function kafkajsLevel(pinoLevel: string): logLevel {
  return TO_KAFKAJS_LEVEL[pinoLevel] ?? logLevel.INFO;
}

/**
 * A kafkajs `logCreator` writing to pino: ERROR → error, WARN → warn, INFO → info, DEBUG → debug.
 * kafkajs' own fields (broker, groupId, error, …) become pino fields; `namespace` names the kafkajs part.
 * @example new Kafka({ brokers, logCreator: pinoLogCreator(logger) })
 */
export function pinoLogCreator(logger: Logger): logCreator {
  const log = logger.child({ component: 'kafkajs' });
  // kafkajs filters by its own level (set from pino's in createKafkaClient) before calling; pino filters again.
  return () =>
    ({ namespace, level, log: entry }: LogEntry): void => {
      const {
        message,
        timestamp: _timestamp,
        logger: _logger,
        ...fields
      } = entry as LogEntry['log'] & {
        logger?: unknown;
      };
      const obj = { namespace, ...fields };
      switch (level) {
        case logLevel.ERROR:
          log.error(obj, message);
          break;
        case logLevel.WARN:
          log.warn(obj, message);
          break;
        case logLevel.INFO:
          log.info(obj, message);
          break;
        default:
          log.debug(obj, message);
      }
    };
}

/**
 * Builds the kafkajs client. Build one per process at start-up and inject it.
 * @example const kafka = createKafkaClient({ brokers: ['localhost:9092'], clientId: 'process-payment', logger });
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: kafkajsLevel(options.logger.level),
    logCreator: pinoLogCreator(options.logger),
    ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeout: options.connectionTimeoutMs }),
  });
}

const producers = new WeakMap<Kafka, Producer>();

/**
 * The one idempotent producer of this client (created on first call, not connected: call `connect()`).
 * Idempotence needs acks -1 (every `send` must pass it) and one request in flight, which also keeps
 * each partition's messages in send order across retries. The default partitioner (murmur2 of the key,
 * Java-compatible) is passed explicitly so kafkajs does not warn.
 * @example const producer = sharedProducer(kafka); await producer.connect();
 */
export function sharedProducer(kafka: Kafka): Producer {
  let producer = producers.get(kafka);
  if (producer === undefined) {
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    producers.set(kafka, producer);
  }
  return producer;
}

export { ACKS_ALL } from './acks.ts';

/** The producer type, for modules that hold one without loading kafkajs (`import type`). */
export type { Producer as KafkaProducer };
