/**
 * The broker's consumer-group coordinator: group membership state machine, committed offsets
 * (optionally journaled under `dataDir`), and the Kafka APIs that expose them.
 * @module
 */
import type { ApiDefinition, BrokerNode } from '../api.ts';
import { adminApis } from './api-admin.ts';
import { membershipApis } from './api-membership.ts';
import { offsetApis } from './api-offsets.ts';
import { GroupManager } from './group-manager.ts';
import { FileOffsetJournal } from './offset-journal.ts';
import { OffsetStore } from './offset-store.ts';
import { realScheduler, type Scheduler } from './scheduler.ts';

export type { GroupState } from './group.ts';
export { ManualScheduler, type Scheduler } from './scheduler.ts';

/** Logger the coordinator writes to. */
export interface GroupCoordinatorLogger {
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
  debug(msg: string, fields?: object): void;
}

/** Options of {@link GroupCoordinator}. */
export interface GroupCoordinatorOptions {
  /** This broker's advertised identity (answered by FindCoordinator). */
  node: () => BrokerNode;
  /** When set, committed offsets are journaled under `<dataDir>/__consumer_offsets/`. */
  dataDir?: string;
  logger: GroupCoordinatorLogger;
  /** JoinGroup session timeout bounds (default 1 ms .. 1 h; Kafka: 6 s .. 5 min). */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Delay before the first rebalance of an Empty group completes (default 0; Kafka 3000). */
  initialRebalanceDelayMs?: number;
  /** Background fdatasync delay of the offset journal; 0 = fsync every commit (default 1000). */
  fsyncIntervalMs?: number;
  /** Clock and timers (tests); default real, unref'd timers. */
  scheduler?: Scheduler;
}

/**
 * Consumer-group coordinator for a single-node broker (spec §7).
 *
 * @example
 * const groups = new GroupCoordinator({ node: () => ({ nodeId: 1, host, port }), dataDir, logger });
 * await groups.load();
 * for (const api of groups.apis()) server.register(api);
 * // on DeleteTopics: groups.deleteTopicOffsets(topic); on shutdown: await groups.stop();
 */
export class GroupCoordinator {
  private readonly groups: GroupManager;
  private readonly offsets: OffsetStore;
  private journal: FileOffsetJournal | undefined;

  constructor(private readonly opts: GroupCoordinatorOptions) {
    const scheduler = opts.scheduler ?? realScheduler;
    this.groups = new GroupManager({
      scheduler,
      minSessionTimeoutMs: opts.minSessionTimeoutMs,
      maxSessionTimeoutMs: opts.maxSessionTimeoutMs,
      initialRebalanceDelayMs: opts.initialRebalanceDelayMs,
      log: (level, msg, fields) => opts.logger[level](`group coordinator: ${msg}`, fields),
    });
    this.offsets = new OffsetStore(this.groups, () => scheduler.now());
  }

  /** Replays committed offsets from `dataDir` (no-op without one); compacts the journal if large. */
  async load(): Promise<void> {
    const { dataDir, logger } = this.opts;
    if (!dataDir || this.journal) return;
    this.journal = FileOffsetJournal.open(
      { dataDir, fsyncIntervalMs: this.opts.fsyncIntervalMs, warn: (m, f) => logger.warn(m, f) },
      (r) => this.offsets.apply(r),
      () => this.offsets.snapshot(),
    );
    for (const [id, g] of this.groups.groups)
      if (g.members.size === 0 && !g.hasOffsets()) this.groups.groups.delete(id);
    this.offsets.setJournal(this.journal);
    logger.info('group coordinator: offsets loaded', { dataDir, groups: this.groups.groups.size });
  }

  /** FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups. */
  apis(): ApiDefinition[] {
    return [
      ...adminApis(this.groups, this.offsets, this.opts.node),
      ...membershipApis(this.groups),
      ...offsetApis(this.offsets),
    ];
  }

  /** Forgets all groups' committed offsets for a deleted topic. */
  deleteTopicOffsets(topic: string): void {
    this.offsets.deleteTopic(topic);
  }

  /** Cancels all timers, answers parked requests, flushes and closes the offset journal. */
  async stop(): Promise<void> {
    this.groups.stop();
    const journal = this.journal;
    this.journal = undefined;
    this.offsets.setJournal(undefined);
    await journal?.close();
  }
}
