/**
 * The Kafka binding: client, topics, event consumers and the outbox publisher. The only place that imports
 * kafkajs. See `ARCHITECTURE.md` beside this file.
 * @module
 */
export {
  ACKS_ALL,
  createKafkaClient,
  type KafkaClientOptions,
  kafkajsLevel,
  pinoLogCreator,
  sharedProducer,
} from './client.ts';
export { type EventConsumer, type EventConsumerOptions, startEventConsumer } from './consumer.ts';
export { DeadLetterHeaders, type DeadLetterKind } from './dead-letter.ts';
export { kafkaPublisher, type PublishRecords } from './publisher.ts';
export { ensureTopics, type TopicSpec } from './topics.ts';
