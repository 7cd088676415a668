import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../api.ts';
import { buildBatch, memoryLogger } from '../test-support.ts';
import { crc32c } from './crc32c.ts';
import { LogStore } from './log-store.ts';
import type { PartitionLog } from './partition-log.ts';
import { readBatchHeader, splitRecordSet } from './record-batch.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-log-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function append(log: PartitionLog, ...batches: Buffer[]) {
  const set = Buffer.concat(batches);
  const split = splitRecordSet(set);
  if (!split.ok) throw new Error(split.problem);
  return log.append(set, split.batches);
}

const values = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `v${from + i}` }));

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});

describe('PartitionLog', () => {
  it('assigns consecutive offsets across batches and rewrites only baseOffset', () => {
    const store = LogStore.open({ logger: memoryLogger() });
    const log = store.createTopic('t', 1).partitions[0]!;
    expect(append(log, buildBatch({ records: values(3) }))).toEqual({ errorCode: 0, baseOffset: 0 });
    expect(append(log, buildBatch({ records: values(2) }), buildBatch({ records: values(4) }))).toEqual({
      errorCode: 0,
      baseOffset: 3,
    });
    expect(log.highWatermark).toBe(9);
    const all = log.read(0, 1 << 20, true);
    const split = splitRecordSet(all);
    expect(split.ok && split.batches.map((b) => b.header.baseOffset)).toEqual([0, 3, 5]);
    // Fetch from the middle of a batch starts at that batch; limits never cut a batch.
    expect(readBatchHeader(log.read(6, 1 << 20, true)).baseOffset).toBe(5);
    expect(log.read(0, 10, false).length).toBe(0);
    expect(readBatchHeader(log.read(0, 10, true)).baseOffset).toBe(0);
  });

  it('finds offsets by record timestamp', () => {
    const store = LogStore.open({ logger: memoryLogger() });
    const log = store.createTopic('t', 1).partitions[0]!;
    append(
      log,
      buildBatch({ firstTimestamp: 1000, records: [{ value: 'a' }, { value: 'b', timestampDelta: 50 }] }),
    );
    append(log, buildBatch({ firstTimestamp: 2000, records: [{ value: 'c' }] }));
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1000 });
    expect(log.offsetForTimestamp(1001)).toEqual({ offset: 1, timestamp: 1050 });
    expect(log.offsetForTimestamp(1500)).toEqual({ offset: 2, timestamp: 2000 });
    expect(log.offsetForTimestamp(3000)).toBeNull();
  });

  it('acknowledges idempotent duplicates with the original offset and rejects gaps and fenced epochs', () => {
    const store = LogStore.open({ logger: memoryLogger() });
    const log = store.createTopic('t', 1).partitions[0]!;
    const pid = { producerId: 7, producerEpoch: 0 };
    expect(append(log, buildBatch({ ...pid, baseSequence: 0, records: values(2) })).baseOffset).toBe(0);
    expect(append(log, buildBatch({ ...pid, baseSequence: 2, records: values(2) })).baseOffset).toBe(2);
    expect(append(log, buildBatch({ ...pid, baseSequence: 0, records: values(2) }))).toEqual({
      errorCode: 0,
      baseOffset: 0,
    });
    expect(append(log, buildBatch({ ...pid, baseSequence: 9, records: values(1) })).errorCode).toBe(
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    expect(
      append(log, buildBatch({ ...pid, producerEpoch: 1, baseSequence: 0, records: values(1) })).baseOffset,
    ).toBe(4);
    expect(append(log, buildBatch({ ...pid, baseSequence: 4, records: values(1) })).errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    expect(log.highWatermark).toBe(5);
  });

  it('rejects record sets that are not whole v2 batches', () => {
    const good = buildBatch({ records: values(1) });
    expect(splitRecordSet(good.subarray(0, good.length - 1)).ok).toBe(false);
    const v1 = Buffer.from(good);
    v1.writeInt8(1, 16);
    expect(splitRecordSet(v1)).toEqual({ ok: false, problem: 'unsupported-magic' });
    expect(splitRecordSet(Buffer.alloc(0)).ok).toBe(false);
  });
});

describe('LogStore with a data directory', () => {
  it('reloads topics, offsets and producer state after a restart', async () => {
    const dataDir = tempDir();
    const first = LogStore.open({ dataDir, logger: memoryLogger() });
    first.createTopic('orders', 2, { 'cleanup.policy': 'delete' });
    const p1 = first.partition('orders', 1)!;
    append(p1, buildBatch({ producerId: 1000, producerEpoch: 0, baseSequence: 0, records: values(3) }));
    append(p1, buildBatch({ records: values(2) }));
    const producerId = first.allocateProducerId();
    await first.close();

    const second = LogStore.open({ dataDir, logger: memoryLogger() });
    expect(second.topicNames()).toEqual(['orders']);
    expect(second.topic('orders')!.configs).toEqual({ 'cleanup.policy': 'delete' });
    const again = second.partition('orders', 1)!;
    expect(again.highWatermark).toBe(5);
    expect(second.partition('orders', 0)!.highWatermark).toBe(0);
    // The duplicate is recognised from the rebuilt producer state.
    expect(
      append(again, buildBatch({ producerId: 1000, producerEpoch: 0, baseSequence: 0, records: values(3) })),
    ).toEqual({
      errorCode: 0,
      baseOffset: 0,
    });
    expect(second.allocateProducerId()).toBeGreaterThan(producerId);
    await second.close();
  });

  it('truncates a torn tail left by a crash and keeps appending after it', async () => {
    const dataDir = tempDir();
    const logger = memoryLogger();
    const first = LogStore.open({ dataDir, logger });
    append(first.createTopic('t', 1).partitions[0]!, buildBatch({ records: values(2) }));
    await first.close();
    const file = join(dataDir, 'logs', 't', '0.log');
    const intact = statSync(file).size;
    const torn = buildBatch({ records: values(5) });
    appendFileSync(file, torn.subarray(0, torn.length - 7));

    const second = LogStore.open({ dataDir, logger });
    expect(statSync(file).size).toBe(intact);
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg.includes('torn'))).toBe(true);
    const log = second.partition('t', 0)!;
    expect(log.highWatermark).toBe(2);
    expect(append(log, buildBatch({ records: values(1) })).baseOffset).toBe(2);
    await second.close();

    truncateSync(file, intact + 30); // a tail shorter than a batch header
    const third = LogStore.open({ dataDir, logger });
    expect(third.partition('t', 0)!.highWatermark).toBe(2);
    await third.close();
  });

  it('deletes topic files and forgets the topic across restarts', async () => {
    const dataDir = tempDir();
    const first = LogStore.open({ dataDir, logger: memoryLogger() });
    append(first.createTopic('gone', 1).partitions[0]!, buildBatch({ records: values(1) }));
    const deleting = first.deleteTopic('gone');
    // Re-created (e.g. by auto-create) before the old files are closed: starts empty.
    const reborn = first.createTopic('gone', 1);
    expect(await deleting).toBe(true);
    expect(reborn.partitions[0]!.highWatermark).toBe(0);
    expect(append(reborn.partitions[0]!, buildBatch({ records: values(1) })).baseOffset).toBe(0);
    expect(await first.deleteTopic('gone')).toBe(true);
    expect(readdirSync(join(dataDir, 'logs'))).toEqual([]);
    expect(readdirSync(join(dataDir, 'trash'))).toEqual([]);
    await first.close();
    const second = LogStore.open({ dataDir, logger: memoryLogger() });
    expect(second.topicNames()).toEqual([]);
    await second.close();
  });
});
