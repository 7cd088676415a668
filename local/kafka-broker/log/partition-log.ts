/**
 * One partition's log: an ordered list of record batches (kept in memory, or indexed into a
 * {@link SegmentFile} when the broker has a data directory), LEO/HW, and append listeners used to
 * wake delayed fetches.
 * @module
 */
import { ErrorCode } from '../api.ts';
import { ProducerStates } from './producer-state.ts';
import { type BatchHeader, readBatchHeader, recordTimestamps } from './record-batch.ts';
import type { SegmentFile } from './segment-file.ts';

interface StoredBatch {
  base: number;
  last: number;
  maxTimestamp: number;
  size: number;
  /** Position in the segment file (file mode). */
  pos: number;
  /** The batch bytes (memory mode). */
  data: Buffer | null;
}

/** Result of appending one partition's record set. */
export type AppendResult = { errorCode: 0; baseOffset: number } | { errorCode: number; baseOffset: -1 };

/** A partition log; HW == LEO (single node, no replication). */
export class PartitionLog {
  /** Idempotent producer state, rebuilt from the log on load. */
  readonly producers = new ProducerStates();
  /** First offset still in the log (no retention: always 0). */
  readonly logStartOffset = 0;
  private readonly batches: StoredBatch[] = [];
  private leo = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly file: SegmentFile | null = null,
    scanned: ReadonlyArray<{ header: BatchHeader; pos: number }> = [],
  ) {
    for (const { header, pos } of scanned) this.index(header, header.baseOffset, pos, null);
  }

  /** Log end offset == high watermark. */
  get highWatermark(): number {
    return this.leo;
  }

  private index(h: BatchHeader, base: number, pos: number, data: Buffer | null): void {
    this.batches.push({
      base,
      last: base + h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
      size: h.size,
      pos,
      data,
    });
    this.producers.record(h, base);
    this.leo = base + h.lastOffsetDelta + 1;
  }

  /**
   * Appends already split batches of `recordSet` (spec §5.3): assigns offsets by rewriting each
   * batch's baseOffset, applies idempotence checks, wakes listeners.
   */
  append(recordSet: Buffer, batches: ReadonlyArray<{ at: number; header: BatchHeader }>): AppendResult {
    let first = -1;
    let appended = false;
    try {
      for (const { at, header } of batches) {
        const check = this.producers.check(header);
        if (check.kind === 'error') return { errorCode: check.errorCode, baseOffset: -1 };
        if (check.kind === 'duplicate') {
          if (first < 0) first = check.baseOffset;
          continue;
        }
        const base = this.leo;
        // Copy: never keep a view of the request frame (spec pitfall 16).
        const bytes = Buffer.from(recordSet.subarray(at, at + header.size));
        bytes.writeBigInt64BE(BigInt(base), 0);
        const pos = this.file ? this.file.append(bytes) : 0;
        this.index(header, base, pos, this.file ? null : bytes);
        appended = true;
        if (first < 0) first = base;
      }
      return { errorCode: ErrorCode.NONE, baseOffset: first };
    } finally {
      if (appended) this.notify();
    }
  }

  /** Index of the first batch whose last offset is ≥ `offset` (batches.length if none). */
  private find(offset: number): number {
    let lo = 0;
    let hi = this.batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.batches[mid]!.last < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Whole batches starting with the one containing `offset`, up to `maxBytes`. With `minOne`
   * the first batch is returned even if larger (KIP-74); batches are never truncated.
   */
  read(offset: number, maxBytes: number, minOne: boolean): Buffer {
    const start = this.find(offset);
    let end = start;
    let total = 0;
    while (end < this.batches.length) {
      const size = this.batches[end]!.size;
      if (total + size > maxBytes && !(minOne && end === start)) break;
      total += size;
      end++;
    }
    return this.slice(start, end, total);
  }

  private slice(start: number, end: number, total: number): Buffer {
    if (end <= start) return Buffer.alloc(0);
    if (this.file) return this.file.read(this.batches[start]!.pos, total);
    if (end - start === 1) return this.batches[start]!.data!;
    return Buffer.concat(
      this.batches.slice(start, end).map((b) => b.data!),
      total,
    );
  }

  /** ListOffsets by timestamp: the first record with timestamp ≥ `ts`, or null. */
  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    const i = this.batches.findIndex((b) => b.maxTimestamp >= ts);
    if (i < 0) return null;
    const batch = this.batches[i]!;
    const bytes = this.slice(i, i + 1, batch.size);
    const records = recordTimestamps(bytes);
    const hit = records?.find((r) => r.timestamp >= ts);
    if (!hit) return { offset: batch.base, timestamp: readBatchHeader(bytes).maxTimestamp };
    return { offset: batch.base + hit.offsetDelta, timestamp: hit.timestamp };
  }

  /** Subscribes to appends; returns the unsubscribe function. */
  onAppend(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Wakes every listener (after an append, or when the partition is deleted). */
  notify(): void {
    for (const cb of [...this.listeners]) cb();
  }

  /** fsyncs appended bytes (no-op in memory mode). */
  async sync(): Promise<void> {
    await this.file?.sync();
  }

  /** Final fsync and close of the file. */
  async close(): Promise<void> {
    this.listeners.clear();
    await this.file?.close();
  }
}
