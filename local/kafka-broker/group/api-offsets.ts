/**
 * Wire handlers for OffsetCommit (8) v0–v5 and OffsetFetch (9) v1–v4 (spec §4.11, §4.12).
 * OffsetCommit: v0 has no generation/member (a "simple" commit, generation −1), v1 adds a
 * per-partition timestamp (ignored), v2–v4 carry `retention_time` (ignored: offsets never expire),
 * v5 drops it; v3+ responses start with `throttle_time_ms`.
 * OffsetFetch: v2 adds a top-level `error_code` at the end, v3+ a leading `throttle_time_ms`
 * (v4 is identical to v3); `null` topics = all committed partitions. No v0: kafkajs has none and
 * must never see a max below 1 (spec §2.3).
 * @module
 */
import { type ApiDefinition, ApiKey, ErrorCode } from '../api.ts';
import type { Reader } from '../protocol/reader.ts';
import type { OffsetCommitRequest, OffsetStore } from './offset-store.ts';
import { responseWriter } from './wire.ts';

const decodeCommit = (version: number, r: Reader): OffsetCommitRequest => {
  const groupId = r.string();
  const generationId = version >= 1 ? r.int32() : -1;
  const memberId = version >= 1 ? r.string() : '';
  if (version >= 2 && version <= 4) r.int64(); // retention_time
  const topics = r.nonNullArray((t) => ({
    topic: t.string(),
    partitions: t.nonNullArray((p) => {
      const partition = p.int32();
      const offset = p.int64();
      if (version === 1) p.int64(); // commit timestamp
      return { partition, offset, metadata: p.nullableString() };
    }),
  }));
  return { groupId, generationId, memberId, topics };
};

const decodeFetchTopics = (r: Reader) =>
  r.array((t) => ({ topic: t.string(), partitions: t.nonNullArray((p) => p.int32()) }));

/** The offset APIs, bound to one {@link OffsetStore}. */
export function offsetApis(offsets: OffsetStore): ApiDefinition[] {
  return [
    {
      key: ApiKey.OffsetCommit,
      name: 'OffsetCommit',
      minVersion: 0,
      maxVersion: 5,
      handle: (ctx, body) => {
        const result = offsets.commit(decodeCommit(ctx.apiVersion, body));
        return responseWriter(ctx.apiVersion, 3)
          .array(result, (w, t) =>
            w.string(t.topic).array(t.partitions, (w2, p) => w2.int32(p.partition).int16(p.errorCode)),
          )
          .toBuffer();
      },
    },
    {
      key: ApiKey.OffsetFetch,
      name: 'OffsetFetch',
      minVersion: 1,
      maxVersion: 4,
      handle: (ctx, body) => {
        const version = ctx.apiVersion;
        const groupId = body.string();
        const topics = decodeFetchTopics(body);
        const invalid = groupId === '';
        const result = offsets.fetch(groupId, topics);
        const w = responseWriter(version, 3).array(result, (w1, t) =>
          w1.string(t.topic).array(t.partitions, (w2, p) =>
            w2
              .int32(p.partition)
              .int64(p.offset)
              .nullableString(p.metadata ?? '')
              .int16(invalid && version < 2 ? ErrorCode.INVALID_GROUP_ID : p.errorCode),
          ),
        );
        if (version >= 2) w.int16(invalid ? ErrorCode.INVALID_GROUP_ID : ErrorCode.NONE);
        return w.toBuffer();
      },
    },
  ];
}
