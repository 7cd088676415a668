/**
 * The group membership state machine (spec §7.2–7.6): JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * session and rebalance timers. Transport-free: requests come in as plain objects, parked requests are
 * answered through {@link Responder} callbacks, time comes from an injected {@link Scheduler}.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../api.ts';
import {
  EMPTY,
  Group,
  type GroupProtocol,
  type JoinResult,
  type Member,
  type Responder,
  type SyncResult,
} from './group.ts';
import type { Scheduler } from './scheduler.ts';

/** Decoded JoinGroup request (any version). */
export interface JoinRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  protocolType: string;
  protocols: GroupProtocol[];
  clientId: string;
  clientHost: string;
}

/** Decoded SyncGroup request; `assignments` is non-empty only from the leader. */
export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  assignments: { memberId: string; assignment: Buffer }[];
}

/** Options of {@link GroupManager}. */
export interface GroupManagerOptions {
  scheduler: Scheduler;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Delay before the first join phase of an Empty group completes (Kafka default 3000; here 0). */
  initialRebalanceDelayMs?: number;
  /** Member id generator (Kafka: `${clientId}-${uuid}`). */
  newMemberId?: (clientId: string) => string;
  log?: (msg: string, fields?: object) => void;
}

const joinError = (errorCode: number, memberId: string): JoinResult => ({
  errorCode,
  generationId: -1,
  protocol: '',
  leaderId: '',
  memberId,
  members: [],
});
const syncError = (errorCode: number): SyncResult => ({ errorCode, assignment: EMPTY });

/**
 * All consumer groups of the broker and their membership transitions.
 *
 * @example
 * const groups = new GroupManager({ scheduler: realScheduler });
 * groups.join({ groupId: 'g', memberId: '', ... }, (r) => console.log(r.generationId));
 */
export class GroupManager {
  readonly groups = new Map<string, Group>();
  private readonly clock: Scheduler;
  private readonly minSession: number;
  private readonly maxSession: number;
  private readonly initialDelay: number;
  private readonly newMemberId: (clientId: string) => string;
  private readonly log: (msg: string, fields?: object) => void;

  constructor(opts: GroupManagerOptions) {
    this.clock = opts.scheduler;
    this.minSession = opts.minSessionTimeoutMs ?? 1;
    this.maxSession = opts.maxSessionTimeoutMs ?? 3_600_000;
    this.initialDelay = opts.initialRebalanceDelayMs ?? 0;
    this.newMemberId = opts.newMemberId ?? ((clientId) => `${clientId}-${randomUUID()}`);
    this.log = opts.log ?? (() => {});
  }

  /** JoinGroup (spec §7.3). `respond` is called exactly once, possibly synchronously. */
  join(req: JoinRequest, respond: Responder<JoinResult>): void {
    const errorCode = this.tryJoin(req, respond);
    if (errorCode !== ErrorCode.NONE) respond(joinError(errorCode, req.memberId));
  }

  /** Parks `respond` in the join phase, or returns the error to answer with. */
  private tryJoin(req: JoinRequest, respond: Responder<JoinResult>): number {
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (req.sessionTimeoutMs < this.minSession || req.sessionTimeoutMs > this.maxSession) {
      return ErrorCode.INVALID_SESSION_TIMEOUT;
    }
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.memberId !== '') return ErrorCode.UNKNOWN_MEMBER_ID;
      group = new Group(req.groupId);
      this.groups.set(group.id, group);
    }
    if (group.state === 'Dead') return ErrorCode.UNKNOWN_MEMBER_ID;
    if (!group.supports(req.protocolType, req.protocols, req.memberId))
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (req.memberId === '') {
      this.addMember(group, req, respond);
      return ErrorCode.NONE;
    }
    const member = group.members.get(req.memberId);
    if (!member || group.state === 'Empty') return ErrorCode.UNKNOWN_MEMBER_ID;
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.pendingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.id));
    member.pendingJoin = respond;
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
    else this.prepareRebalance(group, `member ${member.id} rejoined`);
    return ErrorCode.NONE;
  }

  private addMember(group: Group, req: JoinRequest, respond: Responder<JoinResult>): void {
    const member: Member = {
      id: this.newMemberId(req.clientId),
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocols: req.protocols,
      assignment: EMPTY,
      pendingJoin: respond,
    };
    if (group.members.size === 0) group.protocolType = req.protocolType;
    group.members.set(member.id, member);
    group.leaderId ??= member.id;
    this.heartbeatReceived(group, member);
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
    else this.prepareRebalance(group, `member ${member.id} joined`);
  }

  /** SyncGroup (spec §7.4). `respond` is called exactly once, possibly synchronously. */
  sync(req: SyncRequest, respond: Responder<SyncResult>): void {
    const errorCode = this.trySync(req, respond);
    if (errorCode !== ErrorCode.NONE) respond(syncError(errorCode));
  }

  /** Answers or parks `respond`, or returns the error to answer with. */
  private trySync(req: SyncRequest, respond: Responder<SyncResult>): number {
    const group = this.groups.get(req.groupId);
    const member = group?.members.get(req.memberId);
    if (!group || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'Stable':
        this.heartbeatReceived(group, member);
        respond({ errorCode: ErrorCode.NONE, assignment: member.assignment });
        return ErrorCode.NONE;
      case 'CompletingRebalance':
        member.pendingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.pendingSync = respond;
        if (member.id === group.leaderId) this.completeSync(group, req.assignments);
        return ErrorCode.NONE;
    }
  }

  private completeSync(group: Group, assignments: SyncRequest['assignments']): void {
    const given = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    group.state = 'Stable';
    this.log('group stable', { groupId: group.id, generationId: group.generationId });
    for (const m of group.members.values()) {
      m.assignment = Buffer.from(given.get(m.id) ?? EMPTY);
      const respond = m.pendingSync;
      m.pendingSync = undefined;
      respond?.({ errorCode: ErrorCode.NONE, assignment: m.assignment });
      this.heartbeatReceived(group, m);
    }
  }

  /** Heartbeat (spec §7.5); returns the error code. */
  heartbeat(groupId: string, memberId: string, generationId: number): number {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (!group || !member || group.state === 'Empty' || group.state === 'Dead') {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.state === 'CompletingRebalance') {
      this.heartbeatReceived(group, member);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.heartbeatReceived(group, member);
    return group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** LeaveGroup (spec §7.5); returns the error code. */
  leave(groupId: string, memberId: string): number {
    const group = this.groups.get(groupId);
    if (!group?.members.has(memberId) || group.state === 'Dead') return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMember(group, memberId, 'left the group');
    return ErrorCode.NONE;
  }

  /**
   * Validates an OffsetCommit against membership (spec §7.5 table) and resets the member's session.
   * May create an Empty group for a simple (generation < 0) commit. Returns the error code.
   */
  checkCommit(groupId: string, memberId: string, generationId: number): number {
    let group = this.groups.get(groupId);
    if (!group) {
      if (generationId >= 0) return ErrorCode.ILLEGAL_GENERATION;
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    if (group.state === 'Dead') return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId < 0 && group.state === 'Empty') return ErrorCode.NONE;
    if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.heartbeatReceived(group, member);
    return ErrorCode.NONE;
  }

  /**
   * The connection that parked `respond` closed. A member waiting in JoinGroup is removed (its client
   * is gone, or will rejoin and learn 25); one waiting in SyncGroup just loses its responder, so its
   * session timer runs again. Never calls `respond`.
   */
  dropPending(groupId: string, respond: unknown): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    for (const member of group.members.values()) {
      if (member.pendingSync === respond) {
        member.pendingSync = undefined;
        this.heartbeatReceived(group, member);
      }
      if (member.pendingJoin === respond) {
        member.pendingJoin = undefined;
        this.removeMember(group, member.id, 'connection closed during JoinGroup');
        return;
      }
    }
  }

  /** Marks a group Dead and forgets it (DeleteGroups; caller checked it is Empty). */
  deleteGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    group.state = 'Dead';
    this.cancelGroupTimers(group);
    this.groups.delete(groupId);
  }

  /** Cancels every timer and answers parked requests with REBALANCE_IN_PROGRESS. */
  stop(): void {
    for (const group of this.groups.values()) {
      this.cancelGroupTimers(group);
      for (const m of group.members.values()) {
        m.cancelSession?.();
        m.cancelSession = undefined;
        const { pendingJoin, pendingSync } = m;
        m.pendingJoin = m.pendingSync = undefined;
        pendingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, m.id));
        pendingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
  }

  private removeMember(group: Group, memberId: string, reason: string): void {
    const member = group.members.get(memberId);
    if (!member) return;
    this.log('member removed', { groupId: group.id, memberId, reason });
    const { pendingJoin, pendingSync } = member;
    member.pendingJoin = member.pendingSync = undefined;
    group.removeMember(memberId);
    pendingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    pendingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.state === 'Stable' || group.state === 'CompletingRebalance')
      this.prepareRebalance(group, reason);
    else if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      for (const m of group.members.values()) {
        const respond = m.pendingSync;
        m.pendingSync = undefined;
        m.assignment = EMPTY;
        respond?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    this.log('preparing rebalance', { groupId: group.id, generationId: group.generationId, reason });
    this.cancelGroupTimers(group);
    group.cancelRebalance = this.clock.schedule(group.rebalanceTimeoutMs(), () => {
      group.cancelRebalance = undefined;
      if (group.state === 'PreparingRebalance') this.completeJoin(group);
    });
    group.joinNotBefore = wasEmpty ? this.clock.now() + this.initialDelay : 0;
    if (wasEmpty && this.initialDelay > 0) {
      group.cancelDelay = this.clock.schedule(this.initialDelay, () => {
        group.cancelDelay = undefined;
        if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
      });
    }
    this.tryCompleteJoin(group);
  }

  private tryCompleteJoin(group: Group): void {
    if (group.allJoined() && this.clock.now() >= group.joinNotBefore) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    this.cancelGroupTimers(group);
    for (const m of [...group.members.values()]) {
      if (!m.pendingJoin) {
        this.log('member removed', { groupId: group.id, memberId: m.id, reason: 'did not rejoin in time' });
        group.removeMember(m.id);
      }
    }
    group.generationId += 1;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocol = null;
      group.leaderId = null;
      this.log('group empty', { groupId: group.id, generationId: group.generationId });
      return;
    }
    const protocol = group.selectProtocol();
    group.protocol = protocol;
    group.state = 'CompletingRebalance';
    const leaderId =
      group.leaderId && group.members.has(group.leaderId) ? group.leaderId : [...group.members.keys()][0]!;
    group.leaderId = leaderId;
    const all = [...group.members.values()].map((m) => ({
      memberId: m.id,
      metadata: Group.metadataFor(m, protocol),
    }));
    this.log('join complete', { groupId: group.id, generationId: group.generationId, members: all.length });
    for (const m of group.members.values()) {
      const respond = m.pendingJoin;
      m.pendingJoin = undefined;
      respond?.({
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocol,
        leaderId,
        memberId: m.id,
        members: m.id === leaderId ? all : [],
      });
      this.heartbeatReceived(group, m);
    }
  }

  /** (Re)arms the member's session timer (Kafka `completeAndScheduleNextHeartbeatExpiration`). */
  private heartbeatReceived(group: Group, member: Member): void {
    member.cancelSession?.();
    member.cancelSession = this.clock.schedule(member.sessionTimeoutMs, () => {
      member.cancelSession = undefined;
      if (group.members.get(member.id) !== member) return;
      if (member.pendingJoin || member.pendingSync) this.heartbeatReceived(group, member);
      else this.removeMember(group, member.id, 'session timeout');
    });
  }

  private cancelGroupTimers(group: Group): void {
    group.cancelRebalance?.();
    group.cancelDelay?.();
    group.cancelRebalance = group.cancelDelay = undefined;
  }
}
