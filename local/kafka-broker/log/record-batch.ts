/**
 * RecordBatch v2 header access (spec §5.1). Batches are stored as opaque bytes; the broker only
 * reads header fields and rewrites `baseOffset` (bytes 0–7, outside the CRC).
 * @module
 */
import { gunzipSync } from 'node:zlib';
import { Reader } from '../protocol/reader.ts';
import { crc32c } from './crc32c.ts';

/** Size of the fixed batch header, up to and including `recordCount`. */
export const BATCH_HEADER_BYTES = 61;
/** Bytes before `batchLength`'s payload starts (baseOffset + batchLength). */
export const BATCH_LOG_OVERHEAD = 12;

/** Header fields of one record batch. */
export interface BatchHeader {
  /** Total size in bytes, `12 + batchLength`. */
  size: number;
  baseOffset: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Why a record set was rejected. */
export type BatchProblem = 'corrupt' | 'unsupported-magic';

/** Reads the header of the batch starting at `at`. The caller ensures 61 bytes are available. */
export function readBatchHeader(buf: Buffer, at = 0): BatchHeader {
  return {
    size: BATCH_LOG_OVERHEAD + buf.readInt32BE(at + 8),
    baseOffset: Number(buf.readBigInt64BE(at)),
    magic: buf.readInt8(at + 16),
    crc: buf.readUInt32BE(at + 17),
    attributes: buf.readInt16BE(at + 21),
    lastOffsetDelta: buf.readInt32BE(at + 23),
    firstTimestamp: Number(buf.readBigInt64BE(at + 27)),
    maxTimestamp: Number(buf.readBigInt64BE(at + 35)),
    producerId: Number(buf.readBigInt64BE(at + 43)),
    producerEpoch: buf.readInt16BE(at + 51),
    baseSequence: buf.readInt32BE(at + 53),
    recordCount: buf.readInt32BE(at + 57),
  };
}

/** True if the CRC stored in the batch at `at` matches its bytes. */
export function batchCrcValid(buf: Buffer, at: number, header: BatchHeader): boolean {
  return crc32c(buf, at + 21, at + header.size) === header.crc;
}

/**
 * Splits a produced record set into batches (spec §5.3). Returns the headers with their byte
 * positions, or the problem that makes the whole record set unacceptable.
 */
export function splitRecordSet(
  recordSet: Buffer,
): { ok: true; batches: Array<{ at: number; header: BatchHeader }> } | { ok: false; problem: BatchProblem } {
  const batches: Array<{ at: number; header: BatchHeader }> = [];
  let at = 0;
  while (at < recordSet.length) {
    if (recordSet.length - at < BATCH_HEADER_BYTES) return { ok: false, problem: 'corrupt' };
    const header = readBatchHeader(recordSet, at);
    if (header.magic !== 2) return { ok: false, problem: 'unsupported-magic' };
    if (header.size < BATCH_HEADER_BYTES || at + header.size > recordSet.length) {
      return { ok: false, problem: 'corrupt' };
    }
    if (header.lastOffsetDelta < 0 || header.recordCount < 0) return { ok: false, problem: 'corrupt' };
    batches.push({ at, header });
    at += header.size;
  }
  if (batches.length === 0) return { ok: false, problem: 'corrupt' };
  return { ok: true, batches };
}

const CODEC_MASK = 0x07;

/**
 * Timestamps and offset deltas of the records in one batch, for ListOffsets by timestamp.
 * Returns null when the codec is not decodable here (only none and gzip are); callers then fall
 * back to batch granularity.
 */
export function recordTimestamps(batch: Buffer): Array<{ offsetDelta: number; timestamp: number }> | null {
  const header = readBatchHeader(batch);
  const codec = header.attributes & CODEC_MASK;
  let records: Buffer;
  if (codec === 0) records = batch.subarray(BATCH_HEADER_BYTES, header.size);
  else if (codec === 1) records = gunzipSync(batch.subarray(BATCH_HEADER_BYTES, header.size));
  else return null;
  const r = new Reader(records);
  const out: Array<{ offsetDelta: number; timestamp: number }> = [];
  for (let i = 0; i < header.recordCount; i++) {
    const length = r.varint();
    const start = r.offset;
    r.int8(); // attributes
    const timestampDelta = Number(r.varlong());
    const offsetDelta = r.varint();
    out.push({ offsetDelta, timestamp: header.firstTimestamp + timestampDelta });
    r.raw(length - (r.offset - start));
  }
  return out;
}
