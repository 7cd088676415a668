/**
 * One append-only file per partition holding the raw record batches back to back. Batches already
 * carry their base offsets, so the file is its own source of truth: the in-memory index is rebuilt
 * by scanning it on start, and a torn or corrupt tail is cut off.
 * @module
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import type { BrokerLogger } from '../api.ts';
import { BATCH_HEADER_BYTES, type BatchHeader, batchCrcValid, readBatchHeader } from './record-batch.ts';

/** A batch found while scanning a segment file. */
export interface ScannedBatch {
  header: BatchHeader;
  pos: number;
}

/** Append-only batch file with explicit, coalesced fsync. */
export class SegmentFile {
  private size: number;
  private dirty = false;
  private syncing: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly fd: number,
    size: number,
  ) {
    this.size = size;
  }

  /**
   * Opens (creating if needed) the file at `path`, scans it and truncates anything after the last
   * complete, CRC-valid batch whose base offset continues the previous one.
   */
  static open(path: string, logger: BrokerLogger): { file: SegmentFile; batches: ScannedBatch[] } {
    // Not O_APPEND: positional writes must land where we say (Linux ignores the position with O_APPEND).
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    const fileSize = fstatSync(fd).size;
    const batches: ScannedBatch[] = [];
    const head = Buffer.alloc(BATCH_HEADER_BYTES);
    let pos = 0;
    let nextOffset = 0;
    while (pos < fileSize) {
      if (fileSize - pos < BATCH_HEADER_BYTES) break;
      readSync(fd, head, 0, BATCH_HEADER_BYTES, pos);
      const header = readBatchHeader(head);
      if (header.magic !== 2 || header.size < BATCH_HEADER_BYTES || pos + header.size > fileSize) break;
      if (batches.length > 0 && header.baseOffset !== nextOffset) break;
      const whole = Buffer.alloc(header.size);
      readSync(fd, whole, 0, header.size, pos);
      if (!batchCrcValid(whole, 0, header)) break;
      batches.push({ header, pos });
      nextOffset = header.baseOffset + header.lastOffsetDelta + 1;
      pos += header.size;
    }
    if (pos < fileSize) {
      logger.warn('truncating torn/corrupt tail of partition log', {
        path,
        keptBytes: pos,
        droppedBytes: fileSize - pos,
      });
      ftruncateSync(fd, pos);
    }
    return { file: new SegmentFile(fd, pos), batches };
  }

  /** Appends `buf` (written to the OS immediately, not yet fsynced); returns its file position. */
  append(buf: Buffer): number {
    const pos = this.size;
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done, pos + done);
    this.size += buf.length;
    this.dirty = true;
    return pos;
  }

  /** Reads `len` bytes at `pos`. */
  read(pos: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, out, done, len - done, pos + done);
      if (n === 0) throw new Error(`short read at ${pos + done}`);
      done += n;
    }
    return out;
  }

  /**
   * Flushes written bytes to stable storage. Concurrent callers share one fsync when they arrive
   * while it is running only if nothing was written since; otherwise they wait for the next one.
   */
  async sync(): Promise<void> {
    while (this.syncing) await this.syncing;
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.syncing = new Promise<void>((resolve, reject) => {
      fsync(this.fd, (err) => {
        this.syncing = null;
        if (err) {
          this.dirty = true;
          reject(err);
        } else resolve();
      });
    });
    await this.syncing;
  }

  /** Final fsync and close. */
  async close(): Promise<void> {
    await this.sync().catch(() => {});
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
