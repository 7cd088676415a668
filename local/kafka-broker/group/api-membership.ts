/**
 * Wire handlers for JoinGroup (11) v0–v4, Heartbeat (12) v0–v2, LeaveGroup (13) v0–v2 and
 * SyncGroup (14) v0–v2. Versions above v0 (v1 for JoinGroup) only add `throttle_time_ms` at the start
 * of the response (JoinGroup v3/v4 change nothing on the wire; this broker never sends
 * MEMBER_ID_REQUIRED). Layouts: kafkajs `src/protocol/requests/<api>/v<n>/`.
 * @module
 */
import { type ApiDefinition, ApiKey, type ApiResult, ErrorCode, type RequestContext } from '../api.ts';
import type { Reader } from '../protocol/reader.ts';
import type { JoinResult, Responder, SyncResult } from './group.ts';
import type { GroupManager, JoinRequest, SyncRequest } from './group-manager.ts';
import { responseWriter } from './wire.ts';

/**
 * Parks a request until the state machine answers it. If the connection closes first, the responder
 * is withdrawn from the state machine (`drop`) and the handler resolves with no response.
 */
function park<T>(
  ctx: RequestContext,
  encode: (r: T) => Buffer,
  start: (respond: Responder<T>) => void,
  drop: (respond: Responder<T>) => void,
): Promise<ApiResult> {
  return new Promise((resolve) => {
    let done = false;
    const respond: Responder<T> = (r) => {
      if (done) return;
      done = true;
      resolve(encode(r));
    };
    start(respond);
    if (done) return;
    ctx.onClose(() => {
      if (done) return;
      done = true;
      drop(respond);
      resolve(null);
    });
  });
}

const decodeJoin = (ctx: RequestContext, r: Reader): JoinRequest => {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = ctx.apiVersion >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const protocolType = r.string();
  const protocols = r.nonNullArray((p) => ({ name: p.string(), metadata: Buffer.from(p.bytes()) }));
  const clientHost = `/${ctx.clientHost}`;
  return {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    memberId,
    protocolType,
    protocols,
    clientId: ctx.clientId ?? '',
    clientHost,
  };
};

const encodeJoin = (version: number, res: JoinResult): Buffer =>
  responseWriter(version, 2)
    .int16(res.errorCode)
    .int32(res.generationId)
    .string(res.protocol)
    .string(res.leaderId)
    .string(res.memberId)
    .array(res.members, (w, m) => w.string(m.memberId).bytes(m.metadata))
    .toBuffer();

const encodeSync = (version: number, res: SyncResult): Buffer =>
  responseWriter(version, 1).int16(res.errorCode).bytes(res.assignment).toBuffer();

const errorOnly = (version: number, code: number): Buffer =>
  responseWriter(version, 1).int16(code).toBuffer();

/** The membership APIs, bound to one {@link GroupManager}. */
export function membershipApis(groups: GroupManager): ApiDefinition[] {
  return [
    {
      key: ApiKey.JoinGroup,
      name: 'JoinGroup',
      minVersion: 0,
      maxVersion: 4,
      handle: (ctx, body) => {
        const req = decodeJoin(ctx, body);
        const encode = (r: JoinResult) => encodeJoin(ctx.apiVersion, r);
        return park(
          ctx,
          encode,
          (respond) => groups.join(req, respond),
          (respond) => groups.dropPending(req.groupId, respond),
        );
      },
    },
    {
      key: ApiKey.SyncGroup,
      name: 'SyncGroup',
      minVersion: 0,
      maxVersion: 2,
      handle: (ctx, body) => {
        const req: SyncRequest = {
          groupId: body.string(),
          generationId: body.int32(),
          memberId: body.string(),
          assignments: body.nonNullArray((a) => ({ memberId: a.string(), assignment: a.bytes() })),
        };
        const encode = (r: SyncResult) => encodeSync(ctx.apiVersion, r);
        if (req.groupId === '')
          return encode({ errorCode: ErrorCode.INVALID_GROUP_ID, assignment: Buffer.alloc(0) });
        return park(
          ctx,
          encode,
          (respond) => groups.sync(req, respond),
          (respond) => groups.dropPending(req.groupId, respond),
        );
      },
    },
    {
      key: ApiKey.Heartbeat,
      name: 'Heartbeat',
      minVersion: 0,
      maxVersion: 2,
      handle: (ctx, body) => {
        const groupId = body.string();
        const generationId = body.int32();
        const memberId = body.string();
        const code =
          groupId === '' ? ErrorCode.INVALID_GROUP_ID : groups.heartbeat(groupId, memberId, generationId);
        return errorOnly(ctx.apiVersion, code);
      },
    },
    {
      key: ApiKey.LeaveGroup,
      name: 'LeaveGroup',
      minVersion: 0,
      maxVersion: 2,
      handle: (ctx, body) => {
        const groupId = body.string();
        const memberId = body.string();
        const code = groupId === '' ? ErrorCode.INVALID_GROUP_ID : groups.leave(groupId, memberId);
        return errorOnly(ctx.apiVersion, code);
      },
    },
  ];
}
