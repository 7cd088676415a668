/**
 * CreatePartitions (37) v0–v1 (spec §4.17): grows a topic; manual assignments are ignored.
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import { Writer } from '../protocol/writer.ts';
import { type BrokerDeps, MAX_PARTITIONS } from './context.ts';

/** The CreatePartitions API. */
export function createPartitionsApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.CreatePartitions,
    name: 'CreatePartitions',
    minVersion: 0,
    maxVersion: 1,
    handle(_ctx, r) {
      const requests = r.nonNullArray((r) => {
        const name = r.string();
        const count = r.int32();
        r.array((r) => r.nonNullArray((r) => r.int32())); // assignment
        return { name, count };
      });
      r.int32(); // timeout
      const validateOnly = r.boolean();
      const results = requests.map(({ name, count }) => {
        const topic = deps.store.topic(name);
        if (!topic)
          return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: 'unknown topic' };
        const current = topic.partitions.length;
        if (count <= current || count > MAX_PARTITIONS) {
          const message = `partition count must be in ${current + 1}..${MAX_PARTITIONS}, got ${count}`;
          return { name, errorCode: ErrorCode.INVALID_PARTITIONS, message };
        }
        if (!validateOnly) deps.store.addPartitions(name, count);
        return { name, errorCode: ErrorCode.NONE as number, message: null };
      });
      const w = new Writer().int32(0);
      w.array(results, (w, res) => w.string(res.name).int16(res.errorCode).nullableString(res.message));
      return w.toBuffer();
    },
  };
}
