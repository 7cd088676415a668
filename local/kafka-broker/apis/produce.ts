/**
 * Produce (0) v3–v7 (spec §4.3, §5.3, §5.4). Batches are stored as opaque bytes (compression is
 * passed through); acks=0 gets no response; acks=-1 waits for fsync when the broker has a data
 * directory (group commit: concurrent produces share one fsync per partition file).
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import type { PartitionLog } from '../log/partition-log.ts';
import { splitRecordSet } from '../log/record-batch.ts';
import type { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import type { BrokerDeps } from './context.ts';

interface PartitionRequest {
  partition: number;
  records: Buffer | null;
}

interface PartitionResponse {
  partition: number;
  errorCode: number;
  baseOffset: number;
}

/** The Produce API. */
export function produceApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.Produce,
    name: 'Produce',
    minVersion: 3,
    maxVersion: 7,
    async handle(ctx, r) {
      const transactionalId = r.nullableString();
      const acks = r.int16();
      r.int32(); // timeout: appends are synchronous
      const topics = r.nonNullArray((r) => ({
        name: r.string(),
        partitions: r.nonNullArray(readPartition),
      }));
      const touched = new Set<PartitionLog>();
      const responses = topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p): PartitionResponse => {
          const fail = (errorCode: number): PartitionResponse => ({
            partition: p.partition,
            errorCode,
            baseOffset: -1,
          });
          if (transactionalId !== null) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
          if (acks !== 0 && acks !== 1 && acks !== -1) return fail(ErrorCode.INVALID_REQUIRED_ACKS);
          const log = deps.store.partition(t.name, p.partition);
          if (!log) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          if (!p.records) return fail(ErrorCode.CORRUPT_MESSAGE);
          const split = splitRecordSet(p.records);
          if (!split.ok) return fail(ErrorCode.CORRUPT_MESSAGE);
          if (split.batches.some((b) => b.header.size > deps.maxMessageBytes))
            return fail(ErrorCode.MESSAGE_TOO_LARGE);
          const result = log.append(p.records, split.batches);
          touched.add(log);
          return { partition: p.partition, ...result };
        }),
      }));
      if (acks === 0) return null;
      if (acks === -1) await Promise.all([...touched].map((log) => log.sync()));
      const w = new Writer();
      w.array(responses, (w, t) => {
        w.string(t.name).array(t.partitions, (w, p) => {
          w.int32(p.partition).int16(p.errorCode).int64(p.baseOffset).int64(-1);
          if (ctx.apiVersion >= 5) w.int64(0);
        });
      });
      return w.int32(0).toBuffer();
    },
  };
}

function readPartition(r: Reader): PartitionRequest {
  return { partition: r.int32(), records: r.nullableBytes() };
}
