/**
 * Builds the ops tooling (`runtime/ops/`) for a process: dead letters of every event function of the manifest
 * over Kafka (its own client and producer), parked outbox rows of the stores given. Used by the running system
 * (HTTP `/ops`, when `OPS_TOKEN` is set) and by the CLI (`app/ops.ts`).
 * @module
 */
import type { Logger } from 'pino';
import { manifest } from '../functions/manifest.ts';
import type { AnyFunction } from '../runtime/define.ts';
import { createKafkaClient, sharedProducer } from '../runtime/kafka/client.ts';
import { kafkaTopicLog } from '../runtime/kafka/topic-log.ts';
import {
  type DeadLetterOps,
  deadLetterOps,
  deadLetterSources,
  type OutboxOps,
  outboxOps,
} from '../runtime/ops/index.ts';
import type { OutboxPort } from '../runtime/store.ts';

export interface OpsTooling {
  deadLetters: DeadLetterOps;
  outbox: OutboxOps;
  close(): Promise<void>;
}

export interface OpsToolingOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  maxRedrives: number;
  stores: Readonly<Record<string, { outbox: OutboxPort }>>;
  functions?: readonly AnyFunction[];
  clock?: () => Date;
}

/**
 * Builds the tooling at once; the producer for redrives connects in the background (a process serving HTTP
 * does not wait for Kafka), and a redrive waits for it, reconnecting if that attempt failed. `close()`
 * disconnects it.
 */
export async function createOpsTooling(options: OpsToolingOptions): Promise<OpsTooling> {
  const kafka = createKafkaClient({
    brokers: options.brokers,
    clientId: `${options.clientId}-ops`,
    logger: options.logger.child({ component: 'ops' }),
  });
  const producer = sharedProducer(kafka);
  let connecting: Promise<void> | undefined;
  const connected = () => {
    connecting ??= producer.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };
  connected().catch(() => undefined);
  const sending: ReturnType<typeof sharedProducer> = {
    ...producer,
    send: async (record) => {
      await connected();
      return producer.send(record);
    },
  };
  return {
    deadLetters: deadLetterOps({
      sources: deadLetterSources(options.functions ?? manifest),
      log: kafkaTopicLog(kafka, sending),
      maxRedrives: options.maxRedrives,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    }),
    outbox: outboxOps(options.stores),
    close: () => producer.disconnect().catch(() => undefined),
  };
}
