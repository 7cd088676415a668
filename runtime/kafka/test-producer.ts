/**
 * Test support: a producer configured like the shared one (`client.ts`) but on a client that gives up after a
 * retry, so tests of failing publishes (unknown topic, broker down) see the error in well under a second
 * instead of after kafkajs' 10–20 s of retries. Used by `*.test.ts` only; kafkajs stays inside `runtime/kafka/`.
 * @module
 */
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';

/**
 * An idempotent producer like `sharedProducer(kafka)` whose client retries connects and sends once, quickly
 * (not connected yet).
 * @example const producer = quickFailingProducer(k.broker.brokers); await producer.connect();
 */
export function quickFailingProducer(brokers: readonly string[], retries = 1): Producer {
  const kafka = new Kafka({
    clientId: 'quick-failing',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 500,
    retry: { retries, initialRetryTime: 20, maxRetryTime: 100 },
  });
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries, initialRetryTime: 20, maxRetryTime: 100 },
  });
}
