/**
 * The Kafka binding of an event function: one consumer group per function. Why `eachBatch`, when offsets
 * are committed, and what happens to poison messages: `ARCHITECTURE.md` beside this file.
 * @module
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { EventFunction } from '../define.ts';
import type { InfrastructureFailure } from '../errors.ts';
import { type RuntimeEnv, storeFor } from '../invoke.ts';
import type { TransactionalStore } from '../store.ts';
import { createAttemptCounter } from './attempts.ts';
import { createPauses, type PausedPartition, type PauseOptions } from './pauses.ts';
import {
  type AnyEventFunction,
  isDone,
  isPaused,
  type MessageOutcome,
  type MessageProcessor,
  processBatch,
  processMessage,
} from './process-message.ts';
import { ensureTopics } from './topics.ts';

/** Tuning of one event consumer. Defaults suit production; tests lower the timings. */
export interface EventConsumerOptions {
  /**
   * Partitions processed in parallel (each still one message or batch at a time, in order). Default: when the
   * function's store has a connection pool, the partitions of the subscribed topics, up to the pool's size and
   * {@link MAX_DEFAULT_CONCURRENCY}, so a member's partitions run their transactions side by side instead of
   * taking turns; without one (PGlite: one connection) 1 — parallel batches would only queue for that connection,
   * ahead of everything else the process asks of it (measured: HTTP requests starve).
   */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Longest a fetch waits for data at the broker. kafkajs default 5000. */
  maxWaitTimeInMs?: number;
  /** A group with no committed offset starts at the earliest message (default true), so events published before it first joined are not missed. */
  fromBeginning?: boolean;
  /**
   * Commit after this many messages are done (handled or dead-lettered). Default 1: every message's offset is
   * committed as soon as it is done, so a slow or retrying message never holds back the commit of those
   * before it, and a crash redelivers at most the message in flight. Raise it for throughput (the inbox
   * absorbs the larger redelivery after a crash); resolved offsets are also committed after every batch.
   */
  commitEveryMessages?: number;
  /**
   * Up to this many messages of a partition are handled in one database transaction (inbox, handler and outbox
   * per event, one commit, then their offsets). Default 1: one transaction per message. A failing message
   * rolls its batch back and is then handled alone (retries, dead-letter topic) while the others are redone
   * without it; see ARCHITECTURE.md. Trade-off: the offsets of a batch are committed together, after its
   * slowest message, and a rolled-back batch repeats the external calls (ports) its handlers made.
   */
  batchSize?: number;
  /** Partitions of the dead-letter topic when it has to be created. Default 1. */
  deadLetterPartitions?: number;
  /**
   * Topics the caller has already made sure exist, with their partition counts (the host passes its topic
   * specs, created before any consumer starts). The consumer then neither creates those nor asks the cluster
   * for their partition count (for the default `partitionsConsumedConcurrently`): no admin connection of its
   * own at start-up. A topic not in it is created and looked up as without it.
   */
  knownTopics?: ReadonlyMap<string, number>;
  /** Back-off of a partition paused because a dependency is unavailable (see pauses.ts). */
  pause?: PauseOptions;
  /** Jitter source (tests). */
  random?: () => number;
}

/** Upper bound of the default `partitionsConsumedConcurrently` (a database pool's size, roughly). */
export const MAX_DEFAULT_CONCURRENCY = 8;

/** A running consumer group member. */
export interface EventConsumer {
  readonly groupId: string;
  /** Resolves when the member has joined its group (first `GROUP_JOIN`): the basis of `/readyz`. */
  readonly ready: Promise<void>;
  /** True after the first join, false once stopped or crashed without restart. */
  isReady(): boolean;
  /** Partitions paused now because a dependency is unavailable (for `/readyz` and logs). */
  paused(): PausedPartition[];
  /** Graceful shutdown: stop fetching, let the handler in flight finish, commit, leave the group, disconnect. */
  stop(): Promise<void>;
}

/**
 * Starts consuming the topics of `fn.events` in consumer group `fn.groupId`.
 * @param producer the shared idempotent producer (connected), used for the dead-letter topic.
 * @example
 * const consumer = await startEventConsumer(processPayment, env, kafka, producer, { partitionsConsumedConcurrently: 3 });
 * await consumer.ready;
 */
export async function startEventConsumer(
  fn: AnyEventFunction,
  env: RuntimeEnv,
  kafka: Kafka,
  producer: Producer,
  options: EventConsumerOptions = {},
): Promise<EventConsumer> {
  const log = env.logger.child({ component: 'kafka-consumer', functionId: fn.id, groupId: fn.groupId });
  // The redrive topic carries dead letters sent back to this group only (runtime/ops/dead-letters.ts).
  const topics = [
    ...new Set([
      ...(fn.events as EventFunction['events']).map((event) => event.topic),
      ...(fn.extraTopics ?? []),
    ]),
    fn.redriveTopic,
  ];
  const known = options.knownTopics ?? new Map<string, number>();
  await ensureTopics(
    kafka,
    [
      { topic: fn.deadLetterTopic, partitions: options.deadLetterPartitions ?? 1 },
      { topic: fn.redriveTopic, partitions: 1 },
    ].filter((spec) => !known.has(spec.topic)),
  );

  const consumer: Consumer = kafka.consumer({
    groupId: fn.groupId,
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs }),
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: options.heartbeatIntervalMs }),
    ...(options.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeout: options.rebalanceTimeoutMs }),
    ...(options.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: options.maxWaitTimeInMs }),
    // The group never crashes: whatever kafkajs gives up on, it restarts the member.
    retry: { restartOnFailure: async () => true },
  });

  let joined = false;
  let stopped = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  /** Per partition, the offset below which messages are "cold" (see `coldWindow`); cleared at every join. */
  const coldUntil = new Map<string, bigint>();
  const metrics = env.metrics;
  const labels = (topic: string) => ({ function: fn.id, group: fn.groupId, topic });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joined = true;
    metrics?.rebalanced({ function: fn.id, group: fn.groupId });
    coldUntil.clear();
    resolveReady();
    log.info(
      { memberId: event.payload.memberId, assignment: event.payload.memberAssignment },
      'joined consumer group',
    );
  });
  consumer.on(consumer.events.CRASH, (event) => {
    log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    if (!event.payload.restart) joined = false;
  });

  const processor: MessageProcessor = {
    fn,
    env,
    producer,
    log,
    clock: env.clock,
    random: options.random ?? Math.random,
    attempts: createAttemptCounter(storeFor(env, fn), fn.groupId),
  };
  const pauses = createPauses(log, options.pause, options.random);

  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1));
  /**
   * After an assignment, the first messages of a partition may be ones a previous member was handling when it
   * died: up to a batch, plus what it had resolved but not yet committed. Their attempts are counted before they
   * run — a batch's in one statement — and one whose count shows an earlier attempt goes alone
   * (ARCHITECTURE.md, "Attempts").
   */
  const coldWindow = BigInt(batchSize + Math.max(1, options.commitEveryMessages ?? 1) - 1);
  const isCold = (topic: string, partition: number, message: KafkaMessage): boolean => {
    const key = `${topic}:${partition}`;
    let until = coldUntil.get(key);
    if (until === undefined) {
      until = BigInt(message.offset) + coldWindow;
      coldUntil.set(key, until);
    }
    return BigInt(message.offset) < until;
  };

  /** Ends the handling of a partition's batch whose message could not be finished; true when it must stop. */
  const unfinished = (payload: EachBatchPayload, outcome: MessageOutcome): boolean => {
    if (isDone(outcome)) {
      pauses.recovered(payload.batch.topic, payload.batch.partition);
      return false;
    }
    // Not resolved: the next fetch of this partition starts again at this message.
    if (isPaused(outcome)) {
      pauses.pause(payload, outcome.paused satisfies InfrastructureFailure);
      metrics?.paused(labels(payload.batch.topic), outcome.paused.dependency);
    }
    return true;
  };

  /** Counts a finished message and its processing time (one observation per step). */
  const measured = (topic: string, started: number, outcome: MessageOutcome, count = 1) => {
    if (metrics === undefined) return;
    metrics.processed(labels(topic), (performance.now() - started) / 1000);
    if (isDone(outcome))
      metrics.consumed(labels(topic), outcome === 'dead-lettered' ? 'dead_lettered' : outcome, count);
  };

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    if (metrics === undefined) return eachBatchOf(payload);
    const { batch } = payload;
    metrics.fetchedBatch(labels(batch.topic), batch.messages.length);
    let done = BigInt(batch.firstOffset() ?? batch.highWatermark) - 1n;
    const resolveOffset = (offset: string) => {
      done = BigInt(offset);
      payload.resolveOffset(offset);
    };
    try {
      await eachBatchOf({ ...payload, resolveOffset });
    } finally {
      // Log end offset minus what this member has done (committed at once, or with the next commit).
      metrics.lag(labels(batch.topic), batch.partition, Number(BigInt(batch.highWatermark) - done - 1n));
    }
  };

  const eachBatchOf = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const control = { heartbeat, shouldAbandon: () => !isRunning() || isStale() };
    if (batchSize > 1) return eachBatchInTransactions(payload, control);
    for (const message of batch.messages) {
      if (control.shouldAbandon()) return;
      const cold = isCold(batch.topic, batch.partition, message);
      const started = performance.now();
      const outcome = await processMessage(processor, batch, message, control, { cold });
      measured(batch.topic, started, outcome);
      if (unfinished(payload, outcome)) return;
      resolveOffset(message.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  };

  /** `batchSize` > 1: the front of the batch in one transaction at a time (see `processBatch`). */
  const eachBatchInTransactions = async (
    payload: EachBatchPayload,
    control: { heartbeat: () => Promise<void>; shouldAbandon: () => boolean },
  ): Promise<void> => {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat } = payload;
    const messages = batch.messages;
    /** Messages whose batch attempt failed: handled alone next, that failure counting as attempt 1. */
    const failed = new Map<string, { error: unknown }>();
    let limit = batchSize;
    let i = 0;
    while (i < messages.length) {
      if (control.shouldAbandon()) return;
      const first = messages[i]!;
      const failure = failed.get(first.offset);
      const cold = isCold(batch.topic, batch.partition, first);
      const started = performance.now();
      const step =
        failure === undefined
          ? await processBatch(processor, batch, messages.slice(i, i + limit), control, { cold })
          : {
              kind: 'single' as const,
              outcome: await processMessage(processor, batch, first, control, { firstFailure: failure }),
            };
      if (step.kind === 'retry-smaller') {
        failed.set(step.failure.offset, { error: step.failure.error });
        limit = step.size;
        continue;
      }
      limit = batchSize;
      if (step.kind === 'single') {
        measured(batch.topic, started, step.outcome);
        if (unfinished(payload, step.outcome)) return;
        i += 1;
      } else {
        measured(batch.topic, started, 'handled', step.handled);
        if (step.done > step.handled)
          metrics?.consumed(labels(batch.topic), 'duplicate', step.done - step.handled);
        pauses.recovered(batch.topic, batch.partition);
        i += step.done;
      }
      resolveOffset(messages[i - 1]!.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  };

  const concurrency =
    options.partitionsConsumedConcurrently ??
    (await defaultConcurrency(kafka, topics, storeFor(env, fn), known));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      partitionsConsumedConcurrently: concurrency,
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitThreshold: options.commitEveryMessages ?? 1,
      eachBatch,
    });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }
  log.info({ topics, partitionsConsumedConcurrently: concurrency }, 'event consumer started');

  let stopping: Promise<void> | undefined;
  return {
    groupId: fn.groupId,
    ready,
    isReady: () => joined && !stopped,
    paused: () => pauses.list(),
    stop() {
      stopped = true;
      pauses.clear();
      stopping ??= consumer.disconnect().then(() => log.info('event consumer stopped'));
      return stopping;
    },
  };
}

/**
 * The partitions of `topics` that exist (each can be handled in parallel without breaking per-key order), at most
 * the size of `store`'s connection pool and {@link MAX_DEFAULT_CONCURRENCY}; 1 when the store has no pool. The
 * counts come from `known` when it has every topic, else from the cluster (an admin connection).
 */
async function defaultConcurrency(
  kafka: Kafka,
  topics: readonly string[],
  store: TransactionalStore<unknown>,
  known: ReadonlyMap<string, number>,
): Promise<number> {
  const pool = store.poolState?.();
  if (pool === undefined) return 1;
  const bound = (partitions: number) => Math.max(1, Math.min(MAX_DEFAULT_CONCURRENCY, pool.max, partitions));
  if (topics.every((topic) => known.has(topic)))
    return bound(topics.reduce((sum, topic) => sum + known.get(topic)!, 0));
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length === 0) return 1;
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present });
    const partitions = metadata.reduce((sum, topic) => sum + topic.partitions.length, 0);
    return bound(partitions);
  } finally {
    await admin.disconnect();
  }
}
