/**
 * Idempotent-producer bookkeeping per partition (spec §5.4): duplicates of one of the last five
 * batches are acknowledged with their original offset; gaps are OUT_OF_ORDER_SEQUENCE_NUMBER;
 * fenced epochs are INVALID_PRODUCER_EPOCH. Rebuilt from the log on start (batch headers carry
 * producer id, epoch and sequences), so nothing extra is persisted.
 * @module
 */
import { ErrorCode } from '../api.ts';
import type { BatchHeader } from './record-batch.ts';

const INT32_MAX = 2_147_483_647;
const RECENT_BATCHES = 5;

interface RecentBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

interface ProducerEntry {
  epoch: number;
  lastSeq: number;
  recent: RecentBatch[];
}

/** Outcome of checking one batch's sequence numbers. */
export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'error'; errorCode: number };

/** Sequence number `seq + n`, wrapping past INT32_MAX to 0 as Kafka and kafkajs do. */
export function addSequence(seq: number, n: number): number {
  return seq > INT32_MAX - n ? n - (INT32_MAX - seq) - 1 : seq + n;
}

/** Producer states of one partition. */
export class ProducerStates {
  private readonly byId = new Map<number, ProducerEntry>();

  /** Decides what to do with a batch before it is appended. */
  check(h: BatchHeader): SequenceCheck {
    if (h.producerId < 0) return { kind: 'append' };
    const entry = this.byId.get(h.producerId);
    if (!entry || h.producerEpoch > entry.epoch) return { kind: 'append' };
    if (h.producerEpoch < entry.epoch) return { kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
    const lastSeq = addSequence(h.baseSequence, h.lastOffsetDelta);
    const dup = entry.recent.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === lastSeq);
    if (dup) return { kind: 'duplicate', baseOffset: dup.baseOffset };
    if (h.baseSequence === addSequence(entry.lastSeq, 1)) return { kind: 'append' };
    return { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
  }

  /** Records an appended batch. */
  record(h: BatchHeader, baseOffset: number): void {
    if (h.producerId < 0) return;
    let entry = this.byId.get(h.producerId);
    if (!entry || h.producerEpoch !== entry.epoch) {
      entry = { epoch: h.producerEpoch, lastSeq: -1, recent: [] };
      this.byId.set(h.producerId, entry);
    }
    entry.lastSeq = addSequence(h.baseSequence, h.lastOffsetDelta);
    entry.recent.push({ firstSeq: h.baseSequence, lastSeq: entry.lastSeq, baseOffset });
    if (entry.recent.length > RECENT_BATCHES) entry.recent.shift();
  }

  /** Highest producer id seen, or -1. */
  maxProducerId(): number {
    let max = -1;
    for (const id of this.byId.keys()) max = Math.max(max, id);
    return max;
  }
}
