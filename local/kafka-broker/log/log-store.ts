/**
 * Topics and their partition logs, in memory or under a data directory:
 *
 *     <dataDir>/topics.json                  topic names, partition counts, configs, producer-id block
 *     <dataDir>/logs/<topic>/<partition>.log raw record batches (see SegmentFile)
 *     <dataDir>/trash/                       files of deleted topics, until closed (emptied on start)
 *
 * topics.json is replaced atomically (write temp, fsync, rename, fsync dir) on every topic change.
 * @module
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerLogger } from '../api.ts';
import { type Metadata, readMetadata, writeMetadata } from './metadata-file.ts';
import { PartitionLog } from './partition-log.ts';
import { SegmentFile } from './segment-file.ts';

/** A topic and its partitions (index = partition id). */
export interface Topic {
  name: string;
  partitions: PartitionLog[];
  configs: Record<string, string | null>;
}

/** Options for {@link LogStore.open}. */
export interface LogStoreOptions {
  dataDir?: string;
  logger: BrokerLogger;
  /** Background fsync period for data not already fsynced by an acks=-1 produce. */
  flushIntervalMs?: number;
}

const PRODUCER_ID_BLOCK = 1000;

/** Valid Kafka topic name: `[a-zA-Z0-9._-]{1,249}`, not `.` or `..`. */
export function isValidTopicName(name: string): boolean {
  return /^[a-zA-Z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..';
}

/** All topics of the broker. */
export class LogStore {
  private readonly topics = new Map<string, Topic>();
  private nextProducerId = PRODUCER_ID_BLOCK;
  private producerIdCeiling = PRODUCER_ID_BLOCK;
  private flushTimer: NodeJS.Timeout | null = null;
  private trashCount = 0;

  private constructor(
    private readonly dataDir: string | undefined,
    private readonly logger: BrokerLogger,
  ) {}

  /** Opens the store, loading and repairing an existing data directory. */
  static open(options: LogStoreOptions): LogStore {
    const store = new LogStore(options.dataDir, options.logger);
    if (options.dataDir) {
      store.load(options.dataDir);
      const period = options.flushIntervalMs ?? 1000;
      store.flushTimer = setInterval(() => {
        store
          .sync()
          .catch((err: unknown) => store.logger.error('background fsync failed', { err: String(err) }));
      }, period);
      store.flushTimer.unref();
    }
    return store;
  }

  private load(dataDir: string): void {
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    rmSync(join(dataDir, 'trash'), { recursive: true, force: true });
    const meta = readMetadata(dataDir);
    this.nextProducerId = this.producerIdCeiling = meta.producerIdCeiling;
    for (const [name, t] of Object.entries(meta.topics)) {
      const partitions: PartitionLog[] = [];
      for (let p = 0; p < t.partitions; p++) partitions.push(this.openPartition(name, p));
      this.topics.set(name, { name, partitions, configs: t.configs });
    }
    // A topic deleted from topics.json whose directory survived a crash.
    for (const dir of readdirSync(join(dataDir, 'logs'))) {
      if (!this.topics.has(dir)) rmSync(join(dataDir, 'logs', dir), { recursive: true, force: true });
    }
  }

  private openPartition(topic: string, partition: number): PartitionLog {
    if (!this.dataDir) return new PartitionLog(topic, partition);
    const dir = join(this.dataDir, 'logs', topic);
    mkdirSync(dir, { recursive: true });
    const { file, batches } = SegmentFile.open(join(dir, `${partition}.log`), this.logger);
    const log = new PartitionLog(topic, partition, file, batches);
    this.nextProducerId = Math.max(this.nextProducerId, log.producers.maxProducerId() + 1);
    return log;
  }

  private persist(): void {
    if (!this.dataDir) return;
    const meta: Metadata = { version: 1, producerIdCeiling: this.producerIdCeiling, topics: {} };
    for (const t of this.topics.values()) {
      meta.topics[t.name] = { partitions: t.partitions.length, configs: t.configs };
    }
    writeMetadata(this.dataDir, meta);
  }

  /** The topic, if it exists. */
  topic(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  /** The partition log, if topic and partition exist. */
  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  /** Topic names in creation order. */
  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** Creates a topic; the caller has validated name, count and absence. */
  createTopic(name: string, partitionCount: number, configs: Record<string, string | null> = {}): Topic {
    const topic: Topic = { name, partitions: [], configs };
    // Files first: a crash before topics.json is written leaves a stray directory, removed on load.
    for (let p = 0; p < partitionCount; p++) topic.partitions.push(this.openPartition(name, p));
    this.topics.set(name, topic);
    this.persist();
    return topic;
  }

  /** Grows a topic to `count` partitions; the caller has validated `count`. */
  addPartitions(name: string, count: number): void {
    const topic = this.topics.get(name);
    if (!topic) return;
    const added: PartitionLog[] = [];
    for (let p = topic.partitions.length; p < count; p++) added.push(this.openPartition(name, p));
    topic.partitions.push(...added);
    this.persist();
  }

  /** Deletes a topic and its data; wakes fetches waiting on it. False if it did not exist. */
  async deleteTopic(name: string): Promise<boolean> {
    const topic = this.topics.get(name);
    if (!topic) return false;
    this.topics.delete(name);
    this.persist();
    // Move the files aside at once: a client may re-create the topic (auto-create) while the old
    // files are still being closed, and must start from an empty directory.
    const trash = this.dataDir
      ? join(this.dataDir, 'trash', `${name}.${Date.now()}.${this.trashCount++}`)
      : null;
    if (this.dataDir && trash && existsSync(join(this.dataDir, 'logs', name))) {
      mkdirSync(join(this.dataDir, 'trash'), { recursive: true });
      renameSync(join(this.dataDir, 'logs', name), trash);
    }
    for (const p of topic.partitions) p.notify();
    await Promise.all(topic.partitions.map((p) => p.close()));
    if (trash) rmSync(trash, { recursive: true, force: true });
    return true;
  }

  /** A fresh producer id for InitProducerId (ids are reserved on disk in blocks of 1000). */
  allocateProducerId(): number {
    if (this.nextProducerId >= this.producerIdCeiling) {
      this.producerIdCeiling = (Math.floor(this.nextProducerId / PRODUCER_ID_BLOCK) + 1) * PRODUCER_ID_BLOCK;
      this.persist();
    }
    return this.nextProducerId++;
  }

  /** fsyncs every partition with unsynced appends. */
  async sync(): Promise<void> {
    const all: Promise<void>[] = [];
    for (const t of this.topics.values()) for (const p of t.partitions) all.push(p.sync());
    await Promise.all(all);
  }

  /** Stops the flush timer, fsyncs and closes all files. */
  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    const all: Promise<void>[] = [];
    for (const t of this.topics.values()) for (const p of t.partitions) all.push(p.close());
    await Promise.all(all);
  }
}
