/**
 * Rebalance transitions and timers (spec §7.2, §7.6): PreparingRebalance → CompletingRebalance →
 * Stable, member removal with leader handover, session and rebalance timers.
 * Used by {@link GroupManager}, which handles the requests that trigger them.
 * @module
 */
import { ErrorCode } from '../api.ts';
import { EMPTY, Group, type JoinResult, type Member, type SyncResult } from './group.ts';
import type { Scheduler } from './scheduler.ts';

/** Log sink of the coordinator core. */
export type GroupLog = (level: 'debug' | 'info', msg: string, fields?: object) => void;

/** A JoinGroup error answer (spec §4.7). */
export const joinError = (errorCode: number, memberId: string): JoinResult => ({
  errorCode,
  generationId: -1,
  protocol: '',
  leaderId: '',
  memberId,
  members: [],
});

/** A SyncGroup error answer: empty, never null, assignment bytes (spec §4.8). */
export const syncError = (errorCode: number): SyncResult => ({ errorCode, assignment: EMPTY });

/** Drives groups through the rebalance protocol. */
export class Rebalancer {
  constructor(
    private readonly clock: Scheduler,
    private readonly initialDelay: number,
    private readonly log: GroupLog,
  ) {}

  /** The leader's SyncGroup: store assignments (empty for members it left out), answer all, go Stable. */
  completeSync(group: Group, assignments: { memberId: string; assignment: Buffer }[]): void {
    const given = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    group.state = 'Stable';
    this.log('debug', 'group stable', { groupId: group.id, generationId: group.generationId });
    for (const m of group.members.values()) {
      m.assignment = Buffer.from(given.get(m.id) ?? EMPTY);
      const respond = m.pendingSync;
      m.pendingSync = undefined;
      respond?.({ errorCode: ErrorCode.NONE, assignment: m.assignment });
      this.touch(group, m);
    }
  }

  /** Removes a member (leave, session expiry, closed connection) and rebalances the rest. */
  removeMember(group: Group, memberId: string, reason: string): void {
    const member = group.members.get(memberId);
    if (!member) return;
    this.log('info', 'member removed', { groupId: group.id, memberId, reason });
    const { pendingJoin, pendingSync } = member;
    member.pendingJoin = member.pendingSync = undefined;
    group.removeMember(memberId);
    pendingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    pendingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepare(group, reason);
    else if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
  }

  /** Enters PreparingRebalance (spec §7.2 `prepareRebalance`). */
  prepare(group: Group, reason: string): void {
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
    this.log('info', 'preparing rebalance', { groupId: group.id, generationId: group.generationId, reason });
    this.cancelTimers(group);
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

  /** Completes the join phase if every member has rejoined (and any initial delay passed). */
  tryCompleteJoin(group: Group): void {
    if (group.allJoined() && this.clock.now() >= group.joinNotBefore) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    this.cancelTimers(group);
    for (const m of [...group.members.values()]) {
      if (!m.pendingJoin) {
        this.log('info', 'member removed', {
          groupId: group.id,
          memberId: m.id,
          reason: 'did not rejoin in time',
        });
        group.removeMember(m.id);
      }
    }
    group.generationId += 1;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocol = null;
      group.leaderId = null;
      this.log('debug', 'group empty', { groupId: group.id, generationId: group.generationId });
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
    this.log('debug', 'join complete', {
      groupId: group.id,
      generationId: group.generationId,
      members: all.length,
    });
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
      this.touch(group, m);
    }
  }

  /** (Re)arms the member's session timer (Kafka `completeAndScheduleNextHeartbeatExpiration`). */
  touch(group: Group, member: Member): void {
    member.cancelSession?.();
    member.cancelSession = this.clock.schedule(member.sessionTimeoutMs, () => {
      member.cancelSession = undefined;
      if (group.members.get(member.id) !== member) return;
      if (member.pendingJoin || member.pendingSync) this.touch(group, member);
      else this.removeMember(group, member.id, 'session timeout');
    });
  }

  /** Cancels the group's rebalance and initial-delay timers. */
  cancelTimers(group: Group): void {
    group.cancelRebalance?.();
    group.cancelDelay?.();
    group.cancelRebalance = group.cancelDelay = undefined;
  }
}
