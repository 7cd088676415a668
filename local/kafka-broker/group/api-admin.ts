/**
 * Wire handlers for FindCoordinator (10) v0–v2, DescribeGroups (15) v0–v2, ListGroups (16) v0–v2 and
 * DeleteGroups (42) v0–v1 (spec §4.6, §4.13, §4.17). FindCoordinator v1+ adds `key_type` to the
 * request (any type is answered with this node) and `throttle_time_ms` + `error_message` to the
 * response; the other APIs' v1+ only add a leading `throttle_time_ms` (DeleteGroups always has it).
 * @module
 */
import { type ApiDefinition, ApiKey, type BrokerNode, ErrorCode } from '../api.ts';
import type { Writer } from '../protocol/writer.ts';
import { EMPTY, Group } from './group.ts';
import type { GroupManager } from './group-manager.ts';
import type { OffsetStore } from './offset-store.ts';
import { responseWriter } from './wire.ts';

/** Writes one DescribeGroups entry (spec §4.13: unknown group = error 0, state Dead). */
function describeGroup(w: Writer, groupId: string, group: Group | undefined): void {
  if (!group) {
    w.int16(ErrorCode.NONE).string(groupId).string('Dead').string('').string('').int32(0);
    return;
  }
  const stable = group.state === 'Stable';
  const protocol = stable ? (group.protocol ?? '') : '';
  w.int16(ErrorCode.NONE)
    .string(groupId)
    .string(group.state)
    .string(group.protocolType ?? '')
    .string(protocol)
    .array([...group.members.values()], (wm, m) =>
      wm
        .string(m.id)
        .string(m.clientId)
        .string(m.clientHost)
        .bytes(stable ? Group.metadataFor(m, protocol) : EMPTY)
        .bytes(stable ? m.assignment : EMPTY),
    );
}

/** Error code DeleteGroups returns for one group id (Kafka `handleDeleteGroups`). */
function deleteError(groups: GroupManager, groupId: string): number {
  if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
  const group = groups.groups.get(groupId);
  if (!group || group.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND;
  if (group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
  return ErrorCode.NONE;
}

/** The group admin APIs plus FindCoordinator. */
export function adminApis(
  groups: GroupManager,
  offsets: OffsetStore,
  node: () => BrokerNode,
): ApiDefinition[] {
  return [
    {
      key: ApiKey.FindCoordinator,
      name: 'FindCoordinator',
      minVersion: 0,
      maxVersion: 2,
      handle: (ctx, body) => {
        const key = body.string();
        if (ctx.apiVersion >= 1) body.int8(); // key_type: 0 group, 1 transaction
        const w = responseWriter(ctx.apiVersion, 1);
        const n = key === '' ? { nodeId: -1, host: '', port: -1 } : node();
        w.int16(key === '' ? ErrorCode.INVALID_GROUP_ID : ErrorCode.NONE);
        if (ctx.apiVersion >= 1) w.nullableString(null);
        return w.int32(n.nodeId).string(n.host).int32(n.port).toBuffer();
      },
    },
    {
      key: ApiKey.DescribeGroups,
      name: 'DescribeGroups',
      minVersion: 0,
      maxVersion: 2,
      handle: (ctx, body) => {
        const ids = body.nonNullArray((r) => r.string());
        return responseWriter(ctx.apiVersion, 1)
          .array(ids, (w, id) => describeGroup(w, id, groups.groups.get(id)))
          .toBuffer();
      },
    },
    {
      key: ApiKey.ListGroups,
      name: 'ListGroups',
      minVersion: 0,
      maxVersion: 2,
      handle: (ctx) => {
        const live = [...groups.groups.values()].filter((g) => g.state !== 'Dead');
        return responseWriter(ctx.apiVersion, 1)
          .int16(ErrorCode.NONE)
          .array(live, (w, g) => w.string(g.id).string(g.protocolType ?? ''))
          .toBuffer();
      },
    },
    {
      key: ApiKey.DeleteGroups,
      name: 'DeleteGroups',
      minVersion: 0,
      maxVersion: 1,
      handle: (_ctx, body) => {
        const ids = body.nonNullArray((r) => r.string());
        const results = ids.map((groupId) => {
          const errorCode = deleteError(groups, groupId);
          if (errorCode === ErrorCode.NONE) {
            offsets.deleteGroup(groupId);
            groups.deleteGroup(groupId);
          }
          return { groupId, errorCode };
        });
        return responseWriter(0, 0)
          .array(results, (w, r) => w.string(r.groupId).int16(r.errorCode))
          .toBuffer();
      },
    },
  ];
}
