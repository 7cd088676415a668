/**
 * Metadata (3) v0–v6 (spec §4.2). Requested topics that do not exist are created on the spot
 * when auto-creation is on (and, from v4, the client allows it), and returned healthy.
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import { isValidTopicName, type Topic } from '../log/log-store.ts';
import { Writer } from '../protocol/writer.ts';
import { type BrokerDeps, CLUSTER_ID } from './context.ts';

type TopicAnswer = { name: string; errorCode: number; topic?: Topic };

/** The Metadata API. */
export function metadataApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.Metadata,
    name: 'Metadata',
    minVersion: 0,
    maxVersion: 6,
    handle(ctx, r) {
      const v = ctx.apiVersion;
      let requested = r.array((r) => r.string());
      // v0 has no null array: an empty list means "all topics".
      if (v === 0 && requested !== null && requested.length === 0) requested = null;
      const allowAuto = v >= 4 ? r.boolean() : true;
      const answers: TopicAnswer[] = [];
      if (requested === null) {
        for (const name of deps.store.topicNames()) {
          answers.push({ name, errorCode: ErrorCode.NONE, topic: deps.store.topic(name)! });
        }
      } else {
        for (const name of new Set(requested)) answers.push(resolve(deps, name, allowAuto));
      }
      return encode(deps, v, answers);
    },
  };
}

function resolve(deps: BrokerDeps, name: string, allowAuto: boolean): TopicAnswer {
  const existing = deps.store.topic(name);
  if (existing) return { name, errorCode: ErrorCode.NONE, topic: existing };
  if (!isValidTopicName(name)) return { name, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION };
  if (!deps.autoCreateTopics || !allowAuto) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const topic = deps.store.createTopic(name, deps.defaultPartitions);
  deps.logger.info('auto-created topic', { topic: name, partitions: deps.defaultPartitions });
  return { name, errorCode: ErrorCode.NONE, topic };
}

function encode(deps: BrokerDeps, v: number, answers: TopicAnswer[]): Buffer {
  const node = deps.node();
  const w = new Writer();
  if (v >= 3) w.int32(0);
  w.array([node], (w, n) => {
    w.int32(n.nodeId).string(n.host).int32(n.port);
    if (v >= 1) w.nullableString(null);
  });
  if (v >= 2) w.nullableString(CLUSTER_ID);
  if (v >= 1) w.int32(node.nodeId);
  w.array(answers, (w, a) => {
    w.int16(a.errorCode).string(a.name);
    if (v >= 1) w.boolean(false);
    w.array(a.topic?.partitions ?? [], (w, p) => {
      w.int16(ErrorCode.NONE).int32(p.partition).int32(node.nodeId);
      w.array([node.nodeId], (w, id) => w.int32(id));
      w.array([node.nodeId], (w, id) => w.int32(id));
      if (v >= 5) w.int32(0);
    });
  });
  return w.toBuffer();
}
