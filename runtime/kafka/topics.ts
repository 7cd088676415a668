/**
 * Topic creation at start-up (or as a one-shot job): idempotent, existing topics are left alone.
 * @module
 */
import type { Kafka } from 'kafkajs';

/** One topic to make sure of. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Defaults to the broker's default. */
  replicationFactor?: number;
}

/**
 * Creates the topics that do not exist yet. Existing topics are fine and keep their partition count
 * (it is never changed here: repartitioning moves keys between partitions, a deliberate operation).
 * @returns the names of the topics this call created.
 * @example await ensureTopics(kafka, [{ topic: 'payment-requests', partitions: 6 }]);
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[]): Promise<string[]> {
  const unique = new Map(specs.map((s) => [s.topic, s]));
  if (unique.size === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...unique.values()].filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return [];
    // createTopics resolves false (no throw) when some already exist, e.g. created by a racing replica.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        ...(s.replicationFactor === undefined ? {} : { replicationFactor: s.replicationFactor }),
      })),
    });
    return missing.map((s) => s.topic);
  } finally {
    await admin.disconnect();
  }
}
