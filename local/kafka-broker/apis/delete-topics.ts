/**
 * DeleteTopics (20) v0–v1 (spec §4.15): drops the log (and its files), wakes fetches parked on
 * it, and tells the group coordinator to forget committed offsets for the topic.
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import { Writer } from '../protocol/writer.ts';
import type { BrokerDeps } from './context.ts';

/** The DeleteTopics API. */
export function deleteTopicsApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.DeleteTopics,
    name: 'DeleteTopics',
    minVersion: 0,
    maxVersion: 1,
    async handle(ctx, r) {
      const names = r.nonNullArray((r) => r.string());
      r.int32(); // timeout
      const results: Array<{ name: string; errorCode: number }> = [];
      for (const name of names) {
        const deleted = await deps.store.deleteTopic(name);
        if (deleted) deps.onTopicDeleted(name);
        results.push({ name, errorCode: deleted ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
      }
      const w = new Writer();
      if (ctx.apiVersion >= 1) w.int32(0);
      w.array(results, (w, res) => w.string(res.name).int16(res.errorCode));
      return w.toBuffer();
    },
  };
}
