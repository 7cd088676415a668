/**
 * Consumer-group data model (spec §7.1): one {@link Group} with its members and committed offsets.
 * Pure data plus small queries; transitions live in `group-manager.ts`.
 * @module
 */
import type { Cancel } from './scheduler.ts';

/** Group states as reported by DescribeGroups (kafkajs `ConsumerGroupState`). */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** One protocol (assigner) a member supports, with its opaque subscription metadata. */
export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

/** What a parked JoinGroup is eventually answered with (spec §4.7). */
export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocol: string;
  leaderId: string;
  memberId: string;
  /** All members with their metadata for the chosen protocol; only in the leader's answer. */
  members: { memberId: string; metadata: Buffer }[];
}

/** What a parked SyncGroup is eventually answered with; `assignment` is never null (spec §4.8). */
export interface SyncResult {
  errorCode: number;
  assignment: Buffer;
}

/** Callback that answers a parked request. */
export type Responder<T> = (result: T) => void;

/** One group member (spec §7.1). */
export interface Member {
  readonly id: string;
  readonly clientId: string;
  readonly clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: GroupProtocol[];
  /** Assignment from the leader's last SyncGroup; empty until then. */
  assignment: Buffer;
  pendingJoin?: Responder<JoinResult> | undefined;
  pendingSync?: Responder<SyncResult> | undefined;
  cancelSession?: Cancel | undefined;
}

/** A committed offset, stored verbatim (negative sentinels included). */
export interface CommittedOffset {
  offset: bigint;
  metadata: string | null;
  commitTimestamp: number;
}

export const EMPTY = Buffer.alloc(0);

/** A consumer group: membership state and its committed offsets. */
export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocol: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** topic → partition → committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  cancelRebalance?: Cancel | undefined;
  cancelDelay?: Cancel | undefined;
  /** Earliest time a join phase may complete (initial rebalance delay). */
  joinNotBefore = 0;

  constructor(readonly id: string) {}

  /** True when every member has a parked JoinGroup (vacuously true when empty). */
  allJoined(): boolean {
    for (const m of this.members.values()) if (!m.pendingJoin) return false;
    return true;
  }

  /** Protocol names every member (except `exceptId`) supports. `null` = no constraint (no members). */
  commonProtocols(exceptId?: string): Set<string> | null {
    let common: Set<string> | null = null;
    for (const m of this.members.values()) {
      if (m.id === exceptId) continue;
      const names = new Set(m.protocols.map((p) => p.name));
      common = common === null ? names : new Set([...common].filter((n: string) => names.has(n)));
    }
    return common;
  }

  /** Whether a member with these protocols may join (spec §7.3 step 3). */
  supports(protocolType: string, protocols: GroupProtocol[], memberId?: string): boolean {
    if (protocolType === '' || protocols.length === 0) return false;
    if (this.state === 'Empty') return true;
    if (this.protocolType !== protocolType) return false;
    const common = this.commonProtocols(memberId);
    return common === null || protocols.some((p) => common.has(p.name));
  }

  /** Each member votes for its first protocol supported by all; most votes wins (ties: first seen). */
  selectProtocol(): string {
    const common = this.commonProtocols() ?? new Set<string>();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => common.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** The member's metadata for `protocol` (empty if it does not list it). */
  static metadataFor(member: Member, protocol: string): Buffer {
    return member.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  /** Removes a member and hands leadership to the first remaining one. */
  removeMember(memberId: string): void {
    const m = this.members.get(memberId);
    if (!m) return;
    m.cancelSession?.();
    this.members.delete(memberId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  /** The largest rebalance timeout among members (Kafka `GroupMetadata.rebalanceTimeoutMs`). */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Whether any offsets are committed for this group. */
  hasOffsets(): boolean {
    return this.offsets.size > 0;
  }
}
