/**
 * The group membership state machine's request side (spec §7.3–7.5): JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup and OffsetCommit checks; the transitions and timers they trigger are in `rebalance.ts`. Transport-free: requests come in as plain objects, parked requests are
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
import { type GroupLog, joinError, Rebalancer, syncError } from './rebalance.ts';
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
  log?: GroupLog;
}

/**
 * All consumer groups of the broker and their membership transitions.
 *
 * @example
 * const groups = new GroupManager({ scheduler: realScheduler });
 * groups.join({ groupId: 'g', memberId: '', ... }, (r) => console.log(r.generationId));
 */
export class GroupManager {
  readonly groups = new Map<string, Group>();
  private readonly rebalance: Rebalancer;
  private readonly minSession: number;
  private readonly maxSession: number;
  private readonly newMemberId: (clientId: string) => string;

  constructor(opts: GroupManagerOptions) {
    this.rebalance = new Rebalancer(
      opts.scheduler,
      opts.initialRebalanceDelayMs ?? 0,
      opts.log ?? (() => {}),
    );
    this.minSession = opts.minSessionTimeoutMs ?? 1;
    this.maxSession = opts.maxSessionTimeoutMs ?? 3_600_000;
    this.newMemberId = opts.newMemberId ?? ((clientId) => `${clientId}-${randomUUID()}`);
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
    if (group.state === 'PreparingRebalance') this.rebalance.tryCompleteJoin(group);
    else this.rebalance.prepare(group, `member ${member.id} rejoined`);
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
    this.rebalance.touch(group, member);
    if (group.state === 'PreparingRebalance') this.rebalance.tryCompleteJoin(group);
    else this.rebalance.prepare(group, `member ${member.id} joined`);
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
        this.rebalance.touch(group, member);
        respond({ errorCode: ErrorCode.NONE, assignment: member.assignment });
        return ErrorCode.NONE;
      case 'CompletingRebalance':
        member.pendingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.pendingSync = respond;
        if (member.id === group.leaderId) this.rebalance.completeSync(group, req.assignments);
        return ErrorCode.NONE;
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
      this.rebalance.touch(group, member);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.rebalance.touch(group, member);
    return group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** LeaveGroup (spec §7.5); returns the error code. */
  leave(groupId: string, memberId: string): number {
    const group = this.groups.get(groupId);
    if (!group?.members.has(memberId) || group.state === 'Dead') return ErrorCode.UNKNOWN_MEMBER_ID;
    this.rebalance.removeMember(group, memberId, 'left the group');
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
    this.rebalance.touch(group, member);
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
        this.rebalance.touch(group, member);
      }
      if (member.pendingJoin === respond) {
        member.pendingJoin = undefined;
        this.rebalance.removeMember(group, member.id, 'connection closed during JoinGroup');
        return;
      }
    }
  }

  /** Marks a group Dead and forgets it (DeleteGroups; caller checked it is Empty). */
  deleteGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    group.state = 'Dead';
    this.rebalance.cancelTimers(group);
    this.groups.delete(groupId);
  }

  /** Cancels every timer and answers parked requests with REBALANCE_IN_PROGRESS. */
  stop(): void {
    for (const group of this.groups.values()) {
      this.rebalance.cancelTimers(group);
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
}
