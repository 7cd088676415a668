/**
 * What the ops tooling needs from Kafka, behind a port (`TopicLog` in `runtime/ops/ports.ts`): read a small
 * topic (a dead-letter or redrive topic) from its start to its current end, send records to a topic, and read
 * a consumer group's lag. Reading uses a throw-away consumer group that is deleted afterwards, so it commits
 * nothing any function's group sees.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { LoggedRecord, PartitionLag, TopicLog } from '../ops/ports.ts';
import { ACKS_ALL } from './acks.ts';

export interface KafkaTopicLogOptions {
  /** Longest a read waits to reach the end of a topic. Default 15 s. */
  readTimeoutMs?: number;
}

/**
 * A `TopicLog` over `kafka`, sending with `producer` (connected by the caller, acks -1).
 * @example const log = kafkaTopicLog(kafka, producer); const records = await log.read('ship-order.dlq');
 */
export function kafkaTopicLog(
  kafka: Kafka,
  producer: Producer,
  options: KafkaTopicLogOptions = {},
): TopicLog {
  const timeoutMs = options.readTimeoutMs ?? 15_000;
  const withAdmin = async <T>(work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  };

  return {
    async read(topic) {
      const ends = await withAdmin(async (admin) => {
        if (!(await admin.listTopics()).includes(topic)) return undefined;
        return admin.fetchTopicOffsets(topic);
      });
      if (ends === undefined) return [];
      const pending = new Map(
        ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
      );
      if (pending.size === 0) return [];
      const groupId = `orderflow-ops-${randomUUID()}`;
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      const records: LoggedRecord[] = [];
      let finish!: () => void;
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = pending.get(partition);
            if (end === undefined) return;
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) {
              const one = Array.isArray(value) ? value.at(-1) : value;
              if (one !== undefined) headers[name] = one.toString();
            }
            records.push({
              topic,
              partition,
              offset: message.offset,
              timestamp: new Date(Number(message.timestamp)),
              key: message.key === null ? null : message.key.toString(),
              value: message.value,
              headers,
            });
            if (BigInt(message.offset) + 1n >= end) pending.delete(partition);
            if (pending.size === 0) finish();
          },
        });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`reading ${topic} did not reach its end within ${timeoutMs} ms`)),
            timeoutMs,
          );
        });
        await Promise.race([done, timedOut]).finally(() => clearTimeout(timer));
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await withAdmin((admin) => admin.deleteGroups([groupId])).catch(() => undefined);
      }
      return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    },

    async send(topic, records) {
      if (records.length === 0) return [];
      const sent = await producer.send({
        topic,
        acks: ACKS_ALL,
        messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      });
      return sent.map((meta) => ({ partition: meta.partition, offset: meta.baseOffset ?? '' }));
    },

    async lag(groupId, topics) {
      return withAdmin(async (admin) => {
        const existing = new Set(await admin.listTopics());
        const present = topics.filter((t) => existing.has(t));
        const committed = await admin.fetchOffsets({ groupId, topics: present });
        const out: PartitionLag[] = [];
        for (const { topic, partitions } of committed) {
          const ends = new Map(
            (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as const),
          );
          for (const { partition, offset } of partitions) {
            const end = ends.get(partition) ?? 0n;
            const at = BigInt(offset) < 0n ? 0n : BigInt(offset);
            out.push({ topic, partition, committed: offset, end: String(end), lag: Number(end - at) });
          }
        }
        return out;
      });
    },
  };
}
