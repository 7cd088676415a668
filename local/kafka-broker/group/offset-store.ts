/**
 * Committed offsets (spec §4.11, §4.12, §7.5): validated against group membership, stored verbatim
 * (−1/−2 included) on the {@link Group}, and journaled through an optional {@link OffsetJournal}.
 * @module
 */
import { ErrorCode } from '../api.ts';
import { Group } from './group.ts';
import type { GroupManager } from './group-manager.ts';

/** Kafka's default `offset.metadata.max.bytes`. */
export const MAX_METADATA_LENGTH = 4096;

/** One change to the offset state, as journaled and replayed. */
export type OffsetRecord =
  | {
      kind: 'commit';
      groupId: string;
      topic: string;
      partition: number;
      offset: bigint;
      metadata: string | null;
      ts: number;
    }
  | { kind: 'deleteGroup'; groupId: string }
  | { kind: 'deleteTopic'; topic: string };

/** Where offset changes are made durable (see `offset-journal.ts`). */
export interface OffsetJournal {
  /** Makes the records durable (see the journal's policy) before the caller answers the client. */
  append(records: OffsetRecord[]): void;
  /** Called after appended records were applied; the journal may rewrite itself from the live state. */
  maybeCompact?(): void;
}

/** Decoded OffsetCommit request (any version; v0 uses generation −1 and member ''). */
export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  topics: { topic: string; partitions: { partition: number; offset: bigint; metadata: string | null }[] }[];
}

/** Per-partition commit results, in request order. */
export type CommitResult = { topic: string; partitions: { partition: number; errorCode: number }[] }[];

/** Per-partition fetch results; offset −1 means "nothing committed". */
export type FetchResult = {
  topic: string;
  partitions: { partition: number; offset: bigint; metadata: string | null; errorCode: number }[];
}[];

/**
 * Offset commits and fetches for all groups.
 *
 * @example
 * const offsets = new OffsetStore(groups, () => Date.now());
 * offsets.commit({ groupId: 'g', generationId: -1, memberId: '', topics: [...] });
 */
export class OffsetStore {
  constructor(
    private readonly groups: GroupManager,
    private readonly now: () => number,
    private journal?: OffsetJournal,
  ) {}

  /** Sets (or replaces) the journal that later changes are written to. */
  setJournal(journal: OffsetJournal | undefined): void {
    this.journal = journal;
  }

  /** OffsetCommit: one membership check for the whole request, then per-partition validation. */
  commit(req: OffsetCommitRequest): CommitResult {
    const check =
      req.groupId === ''
        ? ErrorCode.INVALID_GROUP_ID
        : this.groups.checkCommit(req.groupId, req.memberId, req.generationId);
    const group = this.groups.groups.get(req.groupId);
    const ts = this.now();
    const records: OffsetRecord[] = [];
    const result = req.topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map(({ partition, offset, metadata }) => {
        if (check !== ErrorCode.NONE || !group) return { partition, errorCode: check };
        if (metadata !== null && metadata.length > MAX_METADATA_LENGTH) {
          return { partition, errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE };
        }
        records.push({ kind: 'commit', groupId: group.id, topic, partition, offset, metadata, ts });
        return { partition, errorCode: ErrorCode.NONE };
      }),
    }));
    if (records.length > 0) {
      this.journal?.append(records);
      for (const r of records) this.apply(r);
      this.journal?.maybeCompact?.();
    }
    return result;
  }

  /** OffsetFetch; `topics === null` (v2+) means every partition the group has committed. */
  fetch(groupId: string, topics: { topic: string; partitions: number[] }[] | null): FetchResult {
    const group = this.groups.groups.get(groupId);
    const wanted =
      topics ??
      [...(group?.offsets ?? [])].map(([topic, parts]) => ({
        topic,
        partitions: [...parts.keys()].sort((a, b) => a - b),
      }));
    return wanted.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map((partition) => {
        const c = group?.offsets.get(topic)?.get(partition);
        return {
          partition,
          offset: c?.offset ?? -1n,
          metadata: c ? c.metadata : '',
          errorCode: ErrorCode.NONE,
        };
      }),
    }));
  }

  /** Forgets every group's offsets for `topic` (DeleteTopics, spec §4.15). */
  deleteTopic(topic: string): void {
    let any = false;
    for (const g of this.groups.groups.values()) any ||= g.offsets.has(topic);
    if (!any) return;
    const record: OffsetRecord = { kind: 'deleteTopic', topic };
    this.journal?.append([record]);
    this.apply(record);
    this.journal?.maybeCompact?.();
  }

  /** Journals a group deletion (the caller removes the group itself). */
  deleteGroup(groupId: string): void {
    this.journal?.append([{ kind: 'deleteGroup', groupId }]);
  }

  /** Applies a record to memory without journaling it (commit path and journal replay). */
  apply(r: OffsetRecord): void {
    const groups = this.groups.groups;
    switch (r.kind) {
      case 'commit': {
        let group = groups.get(r.groupId);
        if (!group) {
          group = new Group(r.groupId);
          groups.set(group.id, group);
        }
        const parts = group.offsets.get(r.topic) ?? new Map();
        group.offsets.set(r.topic, parts);
        parts.set(r.partition, { offset: r.offset, metadata: r.metadata, commitTimestamp: r.ts });
        return;
      }
      case 'deleteGroup': {
        const group = groups.get(r.groupId);
        if (group && group.members.size === 0) groups.delete(r.groupId);
        return;
      }
      case 'deleteTopic':
        for (const g of groups.values()) g.offsets.delete(r.topic);
        return;
    }
  }

  /** Every live offset as a commit record (journal compaction). */
  *snapshot(): Generator<OffsetRecord> {
    for (const g of this.groups.groups.values()) {
      for (const [topic, parts] of g.offsets) {
        for (const [partition, c] of parts) {
          yield {
            kind: 'commit',
            groupId: g.id,
            topic,
            partition,
            offset: c.offset,
            metadata: c.metadata,
            ts: c.commitTimestamp,
          };
        }
      }
    }
  }
}
