/**
 * What the broker's own API handlers share: the log store, the advertised node, options.
 * @module
 */
import type { BrokerLogger, BrokerNode } from '../api.ts';
import type { LogStore } from '../log/log-store.ts';

/** Dependencies and settings of the topic/log API handlers. */
export interface BrokerDeps {
  store: LogStore;
  node: () => BrokerNode;
  logger: BrokerLogger;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  /** Largest accepted record batch. */
  maxMessageBytes: number;
  /** Called when a topic is deleted so committed offsets for it can go too. */
  onTopicDeleted: (topic: string) => void;
}

/** Reported as cluster id by Metadata v2+. */
export const CLUSTER_ID = 'embedded-kafka-broker';

/** Upper bound on partitions per topic, to keep a bad request from exhausting memory. */
export const MAX_PARTITIONS = 10_000;
