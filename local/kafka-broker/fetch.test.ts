import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api.ts';
import { type RunningBroker, startBroker } from './index.ts';
import { splitRecordSet } from './log/record-batch.ts';
import type { Reader } from './protocol/reader.ts';
import { Writer } from './protocol/writer.ts';
import { buildBatch, memoryLogger, RawClient } from './test-support.ts';

let broker: RunningBroker;
let client: RawClient;
beforeAll(async () => {
  broker = await startBroker({ logger: memoryLogger() });
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.stop();
});

interface FetchOptions {
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
}

const fetchBody = (topic: string, offset: number, o: FetchOptions = {}) =>
  new Writer()
    .int32(-1)
    .int32(o.maxWaitMs ?? 0)
    .int32(o.minBytes ?? 1)
    .int32(o.maxBytes ?? 1 << 20)
    .int8(1)
    .array([topic], (w, t) =>
      w.string(t).array([0], (w, p) =>
        w
          .int32(p)
          .int64(offset)
          .int32(o.partitionMaxBytes ?? 1 << 20),
      ),
    )
    .toBuffer();

const readFetch = (r: Reader) => {
  r.int32();
  const [topic] = r.nonNullArray((r) => ({
    name: r.string(),
    partitions: r.nonNullArray((r) => ({
      partition: r.int32(),
      errorCode: r.int16(),
      hw: r.int64AsNumber(),
      lso: r.int64AsNumber(),
      aborted: r.array((r) => r.int64()),
      records: Buffer.from(r.bytes()),
    })),
  }));
  return topic!.partitions[0]!;
};

const batchOffsets = (records: Buffer) => {
  const split = splitRecordSet(records);
  return split.ok ? split.batches.map((b) => b.header.baseOffset) : [];
};

async function produce(topic: string, values: string[]): Promise<void> {
  const batch = buildBatch({ records: values.map((value) => ({ value })) });
  const body = new Writer()
    .nullableString(null)
    .int16(1)
    .int32(1000)
    .array([topic], (w, t) => w.string(t).array([batch], (w, b) => w.int32(0).bytes(b)))
    .toBuffer();
  const producer = await RawClient.connect(broker.port);
  await producer.request(ApiKey.Produce, 3, body);
  producer.close();
}

async function createTopic(topic: string): Promise<void> {
  await client.request(ApiKey.Metadata, 1, new Writer().array([topic], (w, t) => w.string(t)).toBuffer());
}

describe('fetch', () => {
  it('long-polls until an append arrives, well before max_wait_time', async () => {
    await createTopic('poll');
    const started = Date.now();
    const id = client.send(ApiKey.Fetch, 4, fetchBody('poll', 0, { maxWaitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 50));
    await produce('poll', ['hello']);
    const res = await client.receive();
    expect(res.correlationId).toBe(id);
    const p = readFetch(res.body);
    expect(p).toMatchObject({ errorCode: 0, hw: 1, lso: 1 });
    expect(batchOffsets(p.records)).toEqual([0]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('answers an empty record set with no error after max_wait_time when caught up', async () => {
    await createTopic('idle');
    const started = Date.now();
    const p = readFetch(await client.request(ApiKey.Fetch, 4, fetchBody('idle', 0, { maxWaitMs: 150 })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(p).toMatchObject({ errorCode: 0, hw: 0 });
    expect(p.records.length).toBe(0);
  });

  it('waits for min_bytes across several appends', async () => {
    await createTopic('min-bytes');
    const id = client.send(ApiKey.Fetch, 4, fetchBody('min-bytes', 0, { maxWaitMs: 20_000, minBytes: 200 }));
    await produce('min-bytes', ['a']); // one small batch (< 200 bytes): keep waiting
    await produce('min-bytes', ['b']);
    await produce('min-bytes', ['c']);
    const res = await client.receive();
    expect(res.correlationId).toBe(id);
    expect(batchOffsets(readFetch(res.body).records)).toEqual([0, 1, 2]);
  });

  it('returns whole batches only, and the first one even when it exceeds the limits (KIP-74)', async () => {
    await createTopic('kip74');
    await produce('kip74', ['x'.repeat(300), 'y'.repeat(300)]);
    await produce('kip74', ['z'.repeat(300)]);
    const tiny = readFetch(
      await client.request(ApiKey.Fetch, 4, fetchBody('kip74', 1, { partitionMaxBytes: 10 })),
    );
    expect(batchOffsets(tiny.records)).toEqual([0]); // starts at the batch holding offset 1, uncut
    const capped = readFetch(await client.request(ApiKey.Fetch, 4, fetchBody('kip74', 0, { maxBytes: 700 })));
    expect(batchOffsets(capped.records)).toEqual([0]);
    const all = readFetch(await client.request(ApiKey.Fetch, 4, fetchBody('kip74', 0)));
    expect(batchOffsets(all.records)).toEqual([0, 2]);
  });

  it('reports out-of-range offsets and unknown partitions', async () => {
    await createTopic('range');
    await produce('range', ['a', 'b']);
    const atEnd = readFetch(await client.request(ApiKey.Fetch, 4, fetchBody('range', 2)));
    expect(atEnd).toMatchObject({ errorCode: 0, hw: 2 });
    const beyond = readFetch(await client.request(ApiKey.Fetch, 4, fetchBody('range', 3)));
    expect(beyond).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, hw: 2 });
    const unknown = readFetch(await client.request(ApiKey.Fetch, 4, fetchBody('no-such-topic', 0)));
    expect(unknown).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, hw: -1 });
  });

  it('answers a parked fetch with UNKNOWN_TOPIC_OR_PARTITION when its topic is deleted', async () => {
    await createTopic('doomed');
    const id = client.send(ApiKey.Fetch, 4, fetchBody('doomed', 0, { maxWaitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 50));
    const admin = await RawClient.connect(broker.port);
    const del = new Writer()
      .array(['doomed'], (w, t) => w.string(t))
      .int32(1000)
      .toBuffer();
    await admin.request(ApiKey.DeleteTopics, 0, del);
    admin.close();
    const res = await client.receive();
    expect(res.correlationId).toBe(id);
    expect(readFetch(res.body).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('drops a parked fetch when its client disconnects, and stop() does not wait for parked fetches', async () => {
    await createTopic('abandoned');
    const gone = await RawClient.connect(broker.port);
    gone.send(ApiKey.Fetch, 4, fetchBody('abandoned', 0, { maxWaitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 50));
    gone.close();

    const other = await startBroker({ logger: memoryLogger() });
    const parked = await RawClient.connect(other.port);
    await parked.request(ApiKey.Metadata, 1, new Writer().array(['t'], (w, t) => w.string(t)).toBuffer());
    parked.send(ApiKey.Fetch, 4, fetchBody('t', 0, { maxWaitMs: 60_000 }));
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    await parked.closed();
  });
});

describe('metadata', () => {
  it('treats [] as no topics and null as all topics (v1)', async () => {
    await createTopic('listed');
    const topicsOf = (r: Reader) => {
      r.nonNullArray((r) => [r.int32(), r.string(), r.int32(), r.nullableString()]);
      r.int32();
      return r.nonNullArray((r) => {
        r.int16();
        const name = r.string();
        r.boolean();
        r.nonNullArray((r) => [
          r.int16(),
          r.int32(),
          r.int32(),
          r.array((r) => r.int32()),
          r.array((r) => r.int32()),
        ]);
        return name;
      });
    };
    expect(topicsOf(await client.request(ApiKey.Metadata, 1, new Writer().int32(0).toBuffer()))).toEqual([]);
    expect(topicsOf(await client.request(ApiKey.Metadata, 1, new Writer().int32(-1).toBuffer()))).toContain(
      'listed',
    );
  });
});
