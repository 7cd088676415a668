/**
 * Dead-letter tooling, one implementation behind the CLI (`app/ops.ts`) and HTTP (`./http.ts`): list the
 * dead letters of each event function, show one, and redrive them to **that function's group only**.
 *
 * - A redrive sends the original key, value and headers (minus `dlq-*`) to `<function-id>.redrive`, a topic
 *   only that function's consumer group subscribes to, so other groups of the original topic see no copy. The
 *   inbox still dedupes on the event id: redriving an event that was handled after all is a duplicate.
 * - The copy carries `redrive-count` (this event's redrives by this function, 1, 2, …): a copy that fails again
 *   is dead-lettered with its headers, so its count comes back with it, and a redrive refuses entries whose
 *   count reached the maximum (`DLQ_MAX_REDRIVES`). The consumer counts a redriven copy's attempts afresh.
 * - **The mark lives on Kafka, in the redrive topic itself**: a dead letter is "redriven" when a record of
 *   `<function-id>.redrive` names its dead-letter partition and offset. The record that redrives it is the mark,
 *   so the action and its mark cannot come apart (one produce, no second write to forget), the tooling needs
 *   only Kafka (no service's database; it works the same against containers), and the dead-letter topic stays
 *   an untouched log: nothing is deleted. Redriving a redriven entry again is refused.
 * @module
 */
import { DeadLetterHeaders, RedriveHeaders } from '../kafka/dead-letter.ts';
import type { LoggedRecord, OutgoingRecord, PartitionLag, TopicLog } from './ports.ts';

/** An event function as the tooling sees it. */
export interface DeadLetterSource {
  functionId: string;
  groupId: string;
  deadLetterTopic: string;
  redriveTopic: string;
  /** The topics it consumes (for lag). */
  topics: readonly string[];
}

/** One dead letter. `entry` (`<partition>:<offset>` on the dead-letter topic) names it. */
export interface DeadLetterEntry {
  functionId: string;
  entry: string;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  key: string | null;
  eventType: string | null;
  eventId: string | null;
  kind: string | null;
  errorName: string | null;
  reason: string | null;
  attempts: number | null;
  /** When this function first dead-lettered this event (the earliest entry with its event id). */
  firstFailedAt: string | null;
  /** When this entry was dead-lettered. */
  lastFailedAt: string | null;
  /** Redrives of this event before this entry (its `redrive-count`). */
  redriveCount: number;
  /** Set once the entry was redriven: when, and where the copy went. */
  redriven: { at: string; count: number; offset: string } | null;
}

export interface DeadLetterSummary {
  functionId: string;
  deadLetterTopic: string;
  count: number;
  /** Entries not redriven yet. */
  pending: number;
  entries: DeadLetterEntry[];
}

export interface DeadLetterDetail extends DeadLetterEntry {
  headers: Record<string, string>;
  /** The value as JSON when it parses, else its text. */
  payload: unknown;
}

export type RedriveTarget = { entries: readonly string[] } | { all: true };

export interface RedriveResult {
  entry: string;
  outcome: 'redriven' | 'would-redrive' | 'skipped';
  /** Why it was skipped, or the copy's redrive count. */
  detail: string;
}

export interface DeadLetterOpsOptions {
  sources: readonly DeadLetterSource[];
  log: TopicLog;
  /** Most redrives of one event (`DLQ_MAX_REDRIVES`). */
  maxRedrives: number;
  clock?: () => Date;
}

export class UnknownFunctionError extends Error {
  override name = 'UnknownFunctionError';
}
export class UnknownEntryError extends Error {
  override name = 'UnknownEntryError';
}

/** Dead-letter operations over `options.log`. */
export function deadLetterOps(options: DeadLetterOpsOptions) {
  const clock = options.clock ?? (() => new Date());
  const source = (functionId: string): DeadLetterSource => {
    const found = options.sources.find((s) => s.functionId === functionId);
    if (found === undefined) {
      const known = options.sources.map((s) => s.functionId).join(', ');
      throw new UnknownFunctionError(`unknown event function "${functionId}" (known: ${known})`);
    }
    return found;
  };

  const load = async (
    s: DeadLetterSource,
  ): Promise<{ records: LoggedRecord[]; entries: DeadLetterEntry[] }> => {
    const [records, redrives] = await Promise.all([
      options.log.read(s.deadLetterTopic),
      options.log.read(s.redriveTopic),
    ]);
    const marks = new Map<string, DeadLetterEntry['redriven']>();
    for (const r of redrives) {
      const partition = r.headers[RedriveHeaders.dlqPartition];
      const offset = r.headers[RedriveHeaders.dlqOffset];
      if (partition === undefined || offset === undefined) continue;
      marks.set(`${partition}:${offset}`, {
        at: r.headers[RedriveHeaders.at] ?? r.timestamp.toISOString(),
        count: Number(r.headers[RedriveHeaders.count] ?? 1),
        offset: r.offset,
      });
    }
    const entries = records.map((r) =>
      toEntry(s.functionId, r, marks.get(`${r.partition}:${r.offset}`) ?? null),
    );
    const first = new Map<string, string>();
    for (const e of entries) {
      if (e.eventId === null || e.lastFailedAt === null) continue;
      const seen = first.get(e.eventId);
      if (seen === undefined || e.lastFailedAt < seen) first.set(e.eventId, e.lastFailedAt);
    }
    for (const e of entries)
      e.firstFailedAt = (e.eventId === null ? undefined : first.get(e.eventId)) ?? e.lastFailedAt;
    return { records, entries };
  };

  return {
    sources: options.sources,
    maxRedrives: options.maxRedrives,

    /** Consumer-group lag per function and partition (its topics and its redrive topic). */
    async lag(): Promise<{ functionId: string; groupId: string; partitions: PartitionLag[] }[]> {
      return Promise.all(
        options.sources.map(async (s) => ({
          functionId: s.functionId,
          groupId: s.groupId,
          partitions: await options.log.lag(s.groupId, [...s.topics, s.redriveTopic]),
        })),
      );
    },

    /** Per function (or the one named), its count and entries, oldest first. */
    async list(functionId?: string): Promise<DeadLetterSummary[]> {
      const chosen = functionId === undefined ? options.sources : [source(functionId)];
      return Promise.all(
        chosen.map(async (s) => {
          const { entries } = await load(s);
          return {
            functionId: s.functionId,
            deadLetterTopic: s.deadLetterTopic,
            count: entries.length,
            pending: entries.filter((e) => e.redriven === null).length,
            entries,
          };
        }),
      );
    },

    /** One entry with its headers and decoded payload. */
    async show(functionId: string, entry: string): Promise<DeadLetterDetail> {
      const { records, entries } = await load(source(functionId));
      const id = normaliseEntry(entry);
      const index = entries.findIndex((e) => e.entry === id);
      if (index < 0) throw new UnknownEntryError(`no dead letter ${entry} for ${functionId}`);
      const record = records[index]!;
      return { ...entries[index]!, headers: record.headers, payload: decodePayload(record.value) };
    },

    /**
     * Sends entries back to the function's redrive topic (see the module notes). `--all` takes every entry not
     * redriven yet. `dryRun` sends nothing and says what would happen.
     */
    async redrive(
      functionId: string,
      target: RedriveTarget,
      { dryRun = false } = {},
    ): Promise<RedriveResult[]> {
      const s = source(functionId);
      const { records, entries } = await load(s);
      const wanted =
        'all' in target
          ? entries.filter((e) => e.redriven === null).map((e) => e.entry)
          : target.entries.map(normaliseEntry);
      const results: RedriveResult[] = [];
      const outgoing: { index: number; record: OutgoingRecord }[] = [];
      for (const id of wanted) {
        const index = entries.findIndex((e) => e.entry === id);
        const e = entries[index];
        if (e === undefined) {
          results.push({ entry: id, outcome: 'skipped', detail: 'no such entry' });
          continue;
        }
        if (e.redriven !== null) {
          results.push({ entry: id, outcome: 'skipped', detail: `already redriven at ${e.redriven.at}` });
          continue;
        }
        if (e.redriveCount >= options.maxRedrives) {
          results.push({
            entry: id,
            outcome: 'skipped',
            detail: `redrive limit reached (${e.redriveCount} of ${options.maxRedrives})`,
          });
          continue;
        }
        const count = e.redriveCount + 1;
        results.push({
          entry: id,
          outcome: dryRun ? 'would-redrive' : 'redriven',
          detail: `redrive ${count}`,
        });
        outgoing.push({ index, record: redriveCopy(records[index]!, e, count, clock()) });
      }
      if (!dryRun && outgoing.length > 0)
        await options.log.send(
          s.redriveTopic,
          outgoing.map((o) => o.record),
        );
      return results;
    },
  };
}

export type DeadLetterOps = ReturnType<typeof deadLetterOps>;

/** `7` means partition 0, offset 7. */
function normaliseEntry(entry: string): string {
  return entry.includes(':') ? entry : `0:${entry}`;
}

function toEntry(
  functionId: string,
  r: LoggedRecord,
  redriven: DeadLetterEntry['redriven'],
): DeadLetterEntry {
  const h = r.headers;
  const envelope = decodePayload(r.value);
  const field = (name: string) =>
    typeof envelope === 'object' &&
    envelope !== null &&
    typeof (envelope as Record<string, unknown>)[name] === 'string'
      ? ((envelope as Record<string, string>)[name] ?? null)
      : null;
  const number = (text: string | undefined) =>
    text === undefined || Number.isNaN(Number(text)) ? null : Number(text);
  return {
    functionId,
    entry: `${r.partition}:${r.offset}`,
    originalTopic: h[RedriveHeaders.originalTopic] ?? h[DeadLetterHeaders.originalTopic] ?? null,
    originalPartition: number(h[RedriveHeaders.originalPartition] ?? h[DeadLetterHeaders.originalPartition]),
    originalOffset: h[RedriveHeaders.originalOffset] ?? h[DeadLetterHeaders.originalOffset] ?? null,
    key: r.key,
    eventType: field('type'),
    eventId: field('id'),
    kind: h[DeadLetterHeaders.kind] ?? null,
    errorName: h[DeadLetterHeaders.error] ?? null,
    reason: h[DeadLetterHeaders.reason] ?? null,
    attempts: number(h[DeadLetterHeaders.attempts]),
    firstFailedAt: null,
    lastFailedAt: h[DeadLetterHeaders.failedAt] ?? null,
    redriveCount: number(h[RedriveHeaders.count]) ?? 0,
    redriven,
  };
}

/** The copy sent to the redrive topic: original key, value and headers without `dlq-*`, plus `redrive-*`. */
function redriveCopy(r: LoggedRecord, e: DeadLetterEntry, count: number, now: Date): OutgoingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) if (!name.startsWith('dlq-')) headers[name] = value;
  Object.assign(headers, {
    [RedriveHeaders.count]: String(count),
    [RedriveHeaders.dlqPartition]: String(r.partition),
    [RedriveHeaders.dlqOffset]: r.offset,
    [RedriveHeaders.at]: now.toISOString(),
    ...(e.originalTopic === null ? {} : { [RedriveHeaders.originalTopic]: e.originalTopic }),
    ...(e.originalPartition === null
      ? {}
      : { [RedriveHeaders.originalPartition]: String(e.originalPartition) }),
    ...(e.originalOffset === null ? {} : { [RedriveHeaders.originalOffset]: e.originalOffset }),
  });
  return { key: r.key, value: r.value, headers };
}

function decodePayload(value: Buffer | null): unknown {
  if (value === null) return null;
  const text = value.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
