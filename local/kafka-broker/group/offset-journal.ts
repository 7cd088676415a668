/**
 * Append-only journal of committed offsets: `<dataDir>/__consumer_offsets/offsets.jsonl`.
 *
 * Durability (what is written and fsynced when):
 * - Every OffsetCommit request (and DeleteGroups / DeleteTopics purge) is appended with ONE
 *   synchronous `write(2)` of whole JSON lines BEFORE the response is sent. A broker process crash
 *   or kill therefore never loses an acknowledged commit (the data is in the OS page cache).
 * - `fdatasync` runs in the background at most `fsyncIntervalMs` (default 1000 ms) after a write,
 *   and once more in {@link FileOffsetJournal.close} (broker `stop()`). A power loss or OS crash can lose the commits
 *   of the last interval; consumers then re-read from an older offset (at-least-once redelivery,
 *   never a skip). Set `fsyncIntervalMs: 0` to fsync synchronously on every append.
 * - On open the journal is replayed; a torn last line (crash mid-write) is ignored and dropped.
 * - Compaction (at open, and while running once the file has > `compactMinLines` lines and more than
 *   twice the live offsets): the live state is written to `offsets.jsonl.tmp`, fsynced, renamed over
 *   the journal, and the directory is fsynced, so a crash leaves either the old or the new file.
 * - Offsets never expire (OffsetCommit `retention_time` is ignored); DeleteGroups and DeleteTopics
 *   are the only ways to drop them.
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OffsetJournal, OffsetRecord } from './offset-store.ts';

/** Options of {@link FileOffsetJournal.open}. */
export interface FileOffsetJournalOptions {
  dataDir: string;
  fsyncIntervalMs?: number;
  /** Compact when the journal has more than `compactMinLines` lines and twice the live records. */
  compactMinLines?: number;
  warn?: (msg: string, fields?: object) => void;
}

type Line = { c: [string, string, number, string, string | null, number] } | { dg: string } | { dt: string };

const encode = (r: OffsetRecord): Line => {
  if (r.kind === 'commit')
    return { c: [r.groupId, r.topic, r.partition, r.offset.toString(), r.metadata, r.ts] };
  if (r.kind === 'deleteGroup') return { dg: r.groupId };
  return { dt: r.topic };
};

const decode = (l: Line): OffsetRecord => {
  if ('c' in l) {
    const [groupId, topic, partition, offset, metadata, ts] = l.c;
    return { kind: 'commit', groupId, topic, partition, offset: BigInt(offset), metadata, ts };
  }
  if ('dg' in l) return { kind: 'deleteGroup', groupId: l.dg };
  return { kind: 'deleteTopic', topic: l.dt };
};

const toText = (records: Iterable<OffsetRecord>): string => {
  let s = '';
  for (const r of records) s += JSON.stringify(encode(r)) + '\n';
  return s;
};

/**
 * The file-backed {@link OffsetJournal}.
 *
 * @example
 * const journal = FileOffsetJournal.open({ dataDir }, (r) => store.apply(r), () => store.snapshot());
 * store.setJournal(journal);
 */
export class FileOffsetJournal implements OffsetJournal {
  private fd: number;
  private dirty = false;
  private syncing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Lines in the file, and the count above which {@link maybeCompact} looks at the live state. */
  private lines: number;
  private checkAt: number;

  private constructor(
    private readonly dir: string,
    private readonly file: string,
    private readonly fsyncIntervalMs: number,
    private readonly compactMinLines: number,
    private readonly snapshot: () => Iterable<OffsetRecord>,
    lines: number,
  ) {
    this.fd = fs.openSync(file, 'a');
    this.lines = lines;
    this.checkAt = Math.max(compactMinLines, 2 * lines);
  }

  /**
   * Replays the journal into `apply`, compacts it from `snapshot()` if worthwhile, and opens it for appends.
   */
  static open(
    opts: FileOffsetJournalOptions,
    apply: (r: OffsetRecord) => void,
    snapshot: () => Iterable<OffsetRecord>,
  ): FileOffsetJournal {
    const dir = path.join(opts.dataDir, '__consumer_offsets');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'offsets.jsonl');
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const lines = text.split('\n');
    const torn = lines.pop() !== '';
    let bad = 0;
    for (const line of lines) {
      try {
        apply(decode(JSON.parse(line) as Line));
      } catch {
        bad++;
      }
    }
    if (bad > 0 || torn)
      opts.warn?.('offset journal: skipped unreadable lines', { file, bad, tornTail: torn });
    const minLines = opts.compactMinLines ?? 10_000;
    const live = [...snapshot()];
    let count = lines.length;
    if (torn || count > Math.max(minLines, 2 * live.length)) {
      FileOffsetJournal.rewrite(dir, file, toText(live));
      count = live.length;
    }
    return new FileOffsetJournal(dir, file, opts.fsyncIntervalMs ?? 1000, minLines, snapshot, count);
  }

  private static rewrite(dir: string, file: string, text: string): void {
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }

  append(records: OffsetRecord[]): void {
    if (this.fd < 0) throw new Error('offset journal is closed');
    fs.writeSync(this.fd, toText(records));
    this.lines += records.length;
    if (this.fsyncIntervalMs <= 0) {
      fs.fdatasyncSync(this.fd);
      return;
    }
    this.dirty = true;
    if (!this.timer && !this.syncing) {
      this.timer = setTimeout(() => this.flush(), this.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Rewrites the journal from the live state once it holds more than `compactMinLines` lines and over
   * twice the live offsets. Call after the appended records were applied to the state `snapshot` reads.
   */
  maybeCompact(): void {
    if (this.lines <= this.checkAt || this.fd < 0 || this.syncing) return;
    const live = [...this.snapshot()];
    if (this.lines > 2 * live.length) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      fs.closeSync(this.fd);
      this.fd = -1;
      FileOffsetJournal.rewrite(this.dir, this.file, toText(live));
      this.fd = fs.openSync(this.file, 'a');
      this.dirty = false;
      this.lines = live.length;
    }
    this.checkAt = Math.max(this.compactMinLines, 2 * live.length);
  }

  private flush(): void {
    this.timer = null;
    if (!this.dirty || this.fd < 0) return;
    this.dirty = false;
    const fd = this.fd;
    this.syncing = new Promise<void>((resolve) => fs.fdatasync(fd, () => resolve())).then(() => {
      this.syncing = null;
      if (this.dirty && !this.timer && this.fd >= 0) {
        this.timer = setTimeout(() => this.flush(), this.fsyncIntervalMs);
        this.timer.unref();
      }
    });
  }

  /** Waits for a running background sync, fsyncs what is left, closes the file. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.syncing;
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      if (this.dirty) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
