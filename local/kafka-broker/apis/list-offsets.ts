/**
 * ListOffsets (2) v1–v3 (spec §4.5): -1 = high watermark, -2 = log start, t ≥ 0 = first record
 * with timestamp ≥ t (exact for uncompressed and gzip batches, batch granularity otherwise).
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import { Writer } from '../protocol/writer.ts';
import type { BrokerDeps } from './context.ts';

const LATEST = -1;
const EARLIEST = -2;

/** The ListOffsets API. */
export function listOffsetsApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.ListOffsets,
    name: 'ListOffsets',
    minVersion: 1,
    maxVersion: 3,
    handle(ctx, r) {
      const v = ctx.apiVersion;
      r.int32(); // replica_id
      if (v >= 2) r.int8(); // isolation_level
      const topics = r.nonNullArray((r) => ({
        name: r.string(),
        partitions: r.nonNullArray((r) => ({ partition: r.int32(), timestamp: r.int64AsNumber() })),
      }));
      const w = new Writer();
      if (v >= 2) w.int32(0);
      w.array(topics, (w, t) => {
        w.string(t.name).array(t.partitions, (w, p) => {
          const log = deps.store.partition(t.name, p.partition);
          let answer = { errorCode: ErrorCode.NONE as number, timestamp: -1, offset: -1 };
          if (!log) answer.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          else if (p.timestamp === LATEST) answer.offset = log.highWatermark;
          else if (p.timestamp === EARLIEST) answer.offset = log.logStartOffset;
          else if (p.timestamp >= 0) answer = { ...answer, ...log.offsetForTimestamp(p.timestamp) };
          w.int32(p.partition).int16(answer.errorCode).int64(answer.timestamp).int64(answer.offset);
        });
      });
      return w.toBuffer();
    },
  };
}
