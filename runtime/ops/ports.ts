/**
 * The ports of the ops tooling: what it needs from Kafka (`TopicLog`, implemented in
 * `runtime/kafka/topic-log.ts`) and from the services' stores (their `OutboxPort`).
 * @module
 */

/** One record of a topic, headers decoded as UTF-8 text. */
export interface LoggedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: Date;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** A record to send. */
export interface OutgoingRecord {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** A consumer group's position on one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Committed offset, `-1` when the group has committed nothing there. */
  committed: string;
  /** The partition's end (high watermark). */
  end: string;
  lag: number;
}

/** Reading and writing small topics, and consumer-group lag. */
export interface TopicLog {
  /** Every record of `topic` from its start to its end when called, in partition then offset order; `[]` for a topic that does not exist. */
  read(topic: string): Promise<LoggedRecord[]>;
  /** Sends `records` (acks from every in-sync replica); resolves where they went. */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<{ partition: number; offset: string }[]>;
  /** Lag of `groupId` on every partition of `topics`. */
  lag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]>;
}
