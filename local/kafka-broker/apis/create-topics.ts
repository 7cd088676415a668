/**
 * CreateTopics (19) v1–v3 (spec §4.14). -1 partitions / replication factor mean broker defaults;
 * any replication factor ≥ 1 is accepted (single node: it is recorded as 1) so application code
 * written for a real cluster runs unchanged.
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import { isValidTopicName } from '../log/log-store.ts';
import { Writer } from '../protocol/writer.ts';
import { type BrokerDeps, MAX_PARTITIONS } from './context.ts';

interface CreateRequest {
  name: string;
  partitions: number;
  replicationFactor: number;
  assignments: number;
  configs: Record<string, string | null>;
}

/** The CreateTopics API. */
export function createTopicsApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.CreateTopics,
    name: 'CreateTopics',
    minVersion: 1,
    maxVersion: 3,
    handle(ctx, r) {
      const requests = r.nonNullArray((r): CreateRequest => {
        const name = r.string();
        const partitions = r.int32();
        const replicationFactor = r.int16();
        const assignments = r.nonNullArray((r) => [r.int32(), r.nonNullArray((r) => r.int32())]).length;
        const configs = Object.fromEntries(r.nonNullArray((r) => [r.string(), r.nullableString()]));
        return { name, partitions, replicationFactor, assignments, configs };
      });
      r.int32(); // timeout
      const validateOnly = r.boolean();
      const counts = new Map<string, number>();
      for (const req of requests) counts.set(req.name, (counts.get(req.name) ?? 0) + 1);
      const results = requests.map((req) => {
        const problem = validate(deps, req, counts.get(req.name) ?? 0);
        if (problem) return { name: req.name, ...problem };
        if (!validateOnly) {
          const count = req.partitions === -1 ? req.assignments || deps.defaultPartitions : req.partitions;
          deps.store.createTopic(req.name, count, req.configs);
        }
        return { name: req.name, errorCode: ErrorCode.NONE as number, message: null };
      });
      const w = new Writer();
      if (ctx.apiVersion >= 2) w.int32(0);
      w.array(results, (w, res) => w.string(res.name).int16(res.errorCode).nullableString(res.message));
      return w.toBuffer();
    },
  };
}

function validate(
  deps: BrokerDeps,
  req: CreateRequest,
  occurrences: number,
): { errorCode: number; message: string } | null {
  if (occurrences > 1)
    return { errorCode: ErrorCode.INVALID_REQUEST, message: 'topic listed more than once' };
  if (!isValidTopicName(req.name)) {
    return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, message: 'topic names are [a-zA-Z0-9._-]{1,249}' };
  }
  if (deps.store.topic(req.name)) {
    return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, message: `topic '${req.name}' already exists` };
  }
  if ((req.partitions !== -1 && req.partitions < 1) || req.partitions > MAX_PARTITIONS) {
    return {
      errorCode: ErrorCode.INVALID_PARTITIONS,
      message: `partitions must be 1..${MAX_PARTITIONS} or -1`,
    };
  }
  if (req.replicationFactor !== -1 && req.replicationFactor < 1) {
    return {
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      message: 'replication factor must be ≥ 1 or -1',
    };
  }
  return null;
}
