/**
 * Fetch (1) v4–v11 (spec §4.4, §6.2): whole batches from the one containing the fetch offset,
 * KIP-74 "at least one batch", long poll woken by appends, cancelled when the client goes away.
 * v7+ fetch sessions are not offered: session id 0 tells the client to keep sending full fetches.
 * @module
 */
import type { ApiDefinition, RequestContext } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import type { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import type { BrokerDeps } from './context.ts';

interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  topics: Array<{ name: string; partitions: Array<{ partition: number; offset: number; maxBytes: number }> }>;
}

interface PartitionData {
  partition: number;
  errorCode: number;
  highWatermark: number;
  records: Buffer;
}

interface FetchResult {
  topics: Array<{ name: string; partitions: PartitionData[] }>;
  bytes: number;
  hasError: boolean;
}

/** The Fetch API. */
export function fetchApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.Fetch,
    name: 'Fetch',
    minVersion: 4,
    maxVersion: 11,
    handle(ctx, r) {
      const req = readRequest(ctx.apiVersion, r);
      const first = collect(deps, req);
      if (first.hasError || first.bytes >= req.minBytes || req.maxWaitMs <= 0)
        return encode(ctx.apiVersion, first);
      return park(deps, ctx, req);
    },
  };
}

function readRequest(v: number, r: Reader): FetchRequest {
  r.int32(); // replica_id
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = r.int32();
  r.int8(); // isolation_level: no transactions, so read_committed == read_uncommitted
  if (v >= 7) {
    r.int32(); // session_id
    r.int32(); // session_epoch
  }
  const topics = r.nonNullArray((r) => ({
    name: r.string(),
    partitions: r.nonNullArray((r) => {
      const partition = r.int32();
      if (v >= 9) r.int32(); // current_leader_epoch
      const offset = r.int64AsNumber();
      if (v >= 5) r.int64(); // log_start_offset (followers only)
      return { partition, offset, maxBytes: r.int32() };
    }),
  }));
  if (v >= 7) r.array((r) => [r.string(), r.array((r) => r.int32())]); // forgotten topics
  if (v >= 11) r.string(); // rack_id
  return { maxWaitMs, minBytes, maxBytes, topics };
}

function collect(deps: BrokerDeps, req: FetchRequest): FetchResult {
  let bytes = 0;
  let hasError = false;
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): PartitionData => {
      const log = deps.store.partition(t.name, p.partition);
      const empty = Buffer.alloc(0);
      if (!log) {
        hasError = true;
        return {
          partition: p.partition,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          highWatermark: -1,
          records: empty,
        };
      }
      const hw = log.highWatermark;
      if (p.offset < log.logStartOffset || p.offset > hw) {
        hasError = true;
        return {
          partition: p.partition,
          errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
          highWatermark: hw,
          records: empty,
        };
      }
      const budget = Math.min(p.maxBytes, req.maxBytes - bytes);
      // KIP-74: the first partition with data may exceed the limits by one whole batch.
      const records = p.offset === hw ? empty : log.read(p.offset, Math.max(budget, 0), bytes === 0);
      bytes += records.length;
      return { partition: p.partition, errorCode: ErrorCode.NONE, highWatermark: hw, records };
    }),
  }));
  return { topics, bytes, hasError };
}

function park(deps: BrokerDeps, ctx: RequestContext, req: FetchRequest): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const unsubscribe: Array<() => void> = [];
    let done = false;
    const finish = (result: Buffer | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const u of unsubscribe) u();
      resolve(result);
    };
    const wake = (): void => {
      const result = collect(deps, req);
      if (result.hasError || result.bytes >= req.minBytes) finish(encode(ctx.apiVersion, result));
    };
    const timer = setTimeout(() => finish(encode(ctx.apiVersion, collect(deps, req))), req.maxWaitMs);
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const log = deps.store.partition(t.name, p.partition);
        if (log) unsubscribe.push(log.onAppend(wake));
      }
    }
    ctx.onClose(() => finish(null));
  });
}

function encode(v: number, result: FetchResult): Buffer {
  const w = new Writer(64 + result.bytes);
  w.int32(0); // throttle_time_ms
  if (v >= 7) w.int16(ErrorCode.NONE).int32(0); // error_code, session_id (no session)
  w.array(result.topics, (w, t) => {
    w.string(t.name).array(t.partitions, (w, p) => {
      w.int32(p.partition).int16(p.errorCode).int64(p.highWatermark).int64(p.highWatermark);
      if (v >= 5) w.int64(p.highWatermark < 0 ? -1 : 0); // log_start_offset
      w.array([], () => {}); // aborted_transactions
      if (v >= 11) w.int32(-1); // preferred_read_replica
      w.bytes(p.records);
    });
  });
  return w.toBuffer();
}
