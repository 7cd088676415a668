import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../api.ts';
import { FileOffsetJournal } from './offset-journal.ts';
import { OffsetStore } from './offset-store.ts';
import { setup } from './test-helpers.ts';

const commit = (offset: bigint, metadata: string | null = null, partition = 0) => ({
  groupId: 'g',
  generationId: -1,
  memberId: '',
  topics: [{ topic: 't', partitions: [{ partition, offset, metadata }] }],
});

describe('OffsetStore', () => {
  it('stores offsets verbatim, negative sentinels included', () => {
    const store = new OffsetStore(setup().groups, () => 42);
    for (const offset of [-2n, -1n, 17n]) {
      expect(store.commit(commit(offset))).toEqual([
        { topic: 't', partitions: [{ partition: 0, errorCode: 0 }] },
      ]);
      expect(store.fetch('g', [{ topic: 't', partitions: [0] }])[0]?.partitions[0]?.offset).toBe(offset);
    }
  });

  it('answers -1 for unknown groups, topics and partitions, and lists everything for null topics', () => {
    const store = new OffsetStore(setup().groups, () => 0);
    expect(store.fetch('nope', [{ topic: 'x', partitions: [3] }])).toEqual([
      { topic: 'x', partitions: [{ partition: 3, offset: -1n, metadata: '', errorCode: 0 }] },
    ]);
    store.commit(commit(5n, 'meta', 1));
    store.commit(commit(4n, null, 0));
    expect(store.fetch('g', null)).toEqual([
      {
        topic: 't',
        partitions: [
          { partition: 0, offset: 4n, metadata: null, errorCode: 0 },
          { partition: 1, offset: 5n, metadata: 'meta', errorCode: 0 },
        ],
      },
    ]);
  });

  it('rejects oversized metadata per partition and membership errors for the whole request', () => {
    const t = setup();
    const store = new OffsetStore(t.groups, () => 0);
    expect(store.commit(commit(1n, 'x'.repeat(4097)))[0]?.partitions[0]?.errorCode).toBe(
      ErrorCode.OFFSET_METADATA_TOO_LARGE,
    );
    t.join();
    const res = store.commit({ ...commit(1n), generationId: 1, memberId: 'm1' });
    expect(res[0]?.partitions[0]?.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('accepts a commit with the current generation while the group prepares a rebalance', () => {
    const t = setup();
    const store = new OffsetStore(t.groups, () => 0);
    t.join();
    t.sync('m1', 1);
    t.join(); // m2 joins: PreparingRebalance
    const res = store.commit({ ...commit(9n), generationId: 1, memberId: 'm1' });
    expect(res[0]?.partitions[0]?.errorCode).toBe(0);
    expect(store.fetch('g', [{ topic: 't', partitions: [0] }])[0]?.partitions[0]?.offset).toBe(9n);
  });

  it('forgets a deleted topic in every group', () => {
    const store = new OffsetStore(setup().groups, () => 0);
    store.commit(commit(3n));
    store.commit({ ...commit(3n), groupId: 'h' });
    store.deleteTopic('t');
    expect(store.fetch('g', null)).toEqual([]);
    expect(store.fetch('h', null)).toEqual([]);
  });
});

describe('offset journal', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'group-journal-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const reopen = (dataDir: string, compactMinLines = 10_000) => {
    const store = new OffsetStore(setup().groups, () => 0);
    const journal = FileOffsetJournal.open(
      { dataDir, compactMinLines },
      (r) => store.apply(r),
      () => store.snapshot(),
    );
    store.setJournal(journal);
    return { store, journal };
  };

  it('replays commits, group deletions and topic deletions after a restart', async () => {
    const dataDir = tmp();
    const a = reopen(dataDir);
    a.store.commit(commit(-2n));
    a.store.commit(commit(12n, 'm'));
    a.store.commit({ ...commit(1n), groupId: 'gone' });
    a.store.commit({
      ...commit(1n),
      topics: [{ topic: 'dropped', partitions: [{ partition: 0, offset: 1n, metadata: null }] }],
    });
    a.store.deleteGroup('gone');
    a.store.deleteTopic('dropped');
    await a.journal.close();
    const b = reopen(dataDir);
    expect(b.store.fetch('g', null)).toEqual([
      { topic: 't', partitions: [{ partition: 0, offset: 12n, metadata: 'm', errorCode: 0 }] },
    ]);
    await b.journal.close();
  });

  it('ignores a torn last line and compacts the file', async () => {
    const dataDir = tmp();
    const a = reopen(dataDir);
    a.store.commit(commit(7n));
    await a.journal.close();
    const file = path.join(dataDir, '__consumer_offsets', 'offsets.jsonl');
    fs.appendFileSync(file, '{"c":["g","t",0,"99"');
    const b = reopen(dataDir);
    expect(b.store.fetch('g', null)[0]?.partitions[0]?.offset).toBe(7n);
    b.store.commit(commit(8n));
    await b.journal.close();
    expect(reopen(dataDir).store.fetch('g', null)[0]?.partitions[0]?.offset).toBe(8n);
  });

  it('compacts a journal that has many more lines than live offsets', async () => {
    const dataDir = tmp();
    const a = reopen(dataDir);
    for (let i = 0; i < 50; i++) a.store.commit(commit(BigInt(i)));
    await a.journal.close();
    const b = reopen(dataDir, 10);
    await b.journal.close();
    const file = path.join(dataDir, '__consumer_offsets', 'offsets.jsonl');
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(reopen(dataDir).store.fetch('g', null)[0]?.partitions[0]?.offset).toBe(49n);
  });

  it('compacts while running once the journal outgrows the live offsets', async () => {
    const dataDir = tmp();
    const a = reopen(dataDir, 10);
    for (let i = 0; i < 100; i++) a.store.commit(commit(BigInt(i), null, i % 2));
    const file = path.join(dataDir, '__consumer_offsets', 'offsets.jsonl');
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThanOrEqual(11);
    await a.journal.close();
    const b = reopen(dataDir);
    expect(b.store.fetch('g', null)[0]?.partitions.map((p) => p.offset)).toEqual([98n, 99n]);
    await b.journal.close();
  });
});
