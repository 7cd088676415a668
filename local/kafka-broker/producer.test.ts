import { CompressionTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api.ts';
import { type RunningBroker, startBroker } from './index.ts';
import { readBatchHeader } from './log/record-batch.ts';
import type { Reader } from './protocol/reader.ts';
import { Writer } from './protocol/writer.ts';
import { buildBatch, fastConsumer, kafkaClient, memoryLogger, RawClient, waitFor } from './test-support.ts';

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker({ logger: memoryLogger(), defaultPartitions: 2 });
});
afterAll(async () => {
  await broker.stop();
});

const highWatermarks = async (topic: string) => {
  const admin = kafkaClient(broker.brokers).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).map((p) => Number(p.high));
  } finally {
    await admin.disconnect();
  }
};

const produceBody = (topic: string, records: Buffer, acks = -1) =>
  new Writer()
    .nullableString(null)
    .int16(acks)
    .int32(1000)
    .array([topic], (w, t) => w.string(t).array([records], (w, r) => w.int32(0).bytes(r)))
    .toBuffer();

const readProduce = (r: Reader) => {
  const [topic] = r.nonNullArray((r) => ({
    name: r.string(),
    partitions: r.nonNullArray((r) => ({
      partition: r.int32(),
      errorCode: r.int16(),
      baseOffset: r.int64AsNumber(),
    })),
  }));
  r.int64(); // log_append_time
  return topic!.partitions[0]!;
};

/** Fetch v4 of one partition; returns the raw record set. */
const rawFetch = async (client: RawClient, topic: string, offset: number) => {
  const body = new Writer()
    .int32(-1)
    .int32(0)
    .int32(1)
    .int32(1 << 20)
    .int8(0)
    .array([topic], (w, t) =>
      w.string(t).array([0], (w, p) =>
        w
          .int32(p)
          .int64(offset)
          .int32(1 << 20),
      ),
    )
    .toBuffer();
  const r = await client.request(ApiKey.Fetch, 4, body);
  r.int32();
  const [t] = r.nonNullArray((r) => ({
    name: r.string(),
    partitions: r.nonNullArray((r) => ({
      partition: r.int32(),
      errorCode: r.int16(),
      hw: r.int64AsNumber(),
      lso: r.int64AsNumber(),
      aborted: r.array((r) => r.int64()),
      records: r.bytes(),
    })),
  }));
  return t!.partitions[0]!;
};

describe('producer', () => {
  it.each([0, 1, -1] as const)('stores messages sent with acks=%i', async (acks) => {
    const topic = `acks-${acks === -1 ? 'all' : acks}`;
    const producer = kafkaClient(broker.brokers).producer();
    await producer.connect();
    await producer.send({ topic, acks, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    // A later acknowledged request on the same connection is processed after the acks=0 one.
    await producer.send({ topic, acks: 1, messages: [{ value: 'd' }] });
    await producer.disconnect();
    const total = (await highWatermarks(topic)).reduce((a, b) => a + b, 0);
    expect(total).toBe(4);
  });

  it('passes gzip batches through untouched and kafkajs decodes them', async () => {
    const topic = 'gzip';
    const kafka = kafkaClient(broker.brokers);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: `compressible ${'x'.repeat(200)} ${i}`,
    }));
    await producer.send({ topic, compression: CompressionTypes.GZIP, messages });
    await producer.disconnect();

    const raw = await RawClient.connect(broker.port);
    const fetched = await rawFetch(raw, topic, 0);
    raw.close();
    expect(readBatchHeader(fetched.records).attributes & 0x07).toBe(1);
    expect(fetched.records.length).toBeLessThan(50 * 200);

    const consumer = kafka.consumer({ groupId: 'gzip-reader', ...fastConsumer });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(() => values.length >= 50, { what: 'gzip messages' });
    await consumer.disconnect();
    expect(values).toEqual(messages.map((m) => m.value));
  });

  it('runs an idempotent kafkajs producer', async () => {
    const topic = 'idempotent';
    const producer = kafkaClient(broker.brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 5; i++) {
      await producer.send({
        topic,
        messages: [
          { key: 'same', value: `v${i}` },
          { key: 'same', value: `w${i}` },
        ],
      });
    }
    await producer.disconnect();
    expect((await highWatermarks(topic)).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('acknowledges a retried idempotent batch with its original offset and appends nothing', async () => {
    const client = await RawClient.connect(broker.port);
    const init = await client.request(
      ApiKey.InitProducerId,
      0,
      new Writer().nullableString(null).int32(1000).toBuffer(),
    );
    init.int32();
    expect(init.int16()).toBe(0);
    const producerId = init.int64AsNumber();
    const producerEpoch = init.int16();
    const topic = 'idempotent-raw';
    await client.request(ApiKey.Metadata, 1, new Writer().array([topic], (w, t) => w.string(t)).toBuffer());
    const batch = (seq: number) =>
      buildBatch({
        producerId,
        producerEpoch,
        baseSequence: seq,
        records: [{ value: `s${seq}` }, { value: 'x' }],
      });
    expect(readProduce(await client.request(ApiKey.Produce, 3, produceBody(topic, batch(0))))).toMatchObject({
      errorCode: 0,
      baseOffset: 0,
    });
    expect(readProduce(await client.request(ApiKey.Produce, 3, produceBody(topic, batch(2))))).toMatchObject({
      errorCode: 0,
      baseOffset: 2,
    });
    // The "lost acknowledgement" retry of the first batch.
    expect(readProduce(await client.request(ApiKey.Produce, 3, produceBody(topic, batch(0))))).toMatchObject({
      errorCode: 0,
      baseOffset: 0,
    });
    expect(readProduce(await client.request(ApiKey.Produce, 3, produceBody(topic, batch(7))))).toMatchObject({
      errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    });
    expect((await rawFetch(client, topic, 0)).hw).toBe(4);
    client.close();
  });

  it('rejects corrupt record sets and transactional producers', async () => {
    const client = await RawClient.connect(broker.port);
    await client.request(
      ApiKey.Metadata,
      1,
      new Writer().array(['corrupt'], (w, t) => w.string(t)).toBuffer(),
    );
    const good = buildBatch({ records: [{ value: 'v' }] });
    const res = readProduce(
      await client.request(ApiKey.Produce, 3, produceBody('corrupt', good.subarray(0, good.length - 3))),
    );
    expect(res.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    client.close();

    // No transactions: the transactional producer fails explicitly when it starts one.
    const producer = kafkaClient(broker.brokers).producer({
      transactionalId: 'tx',
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 1, initialRetryTime: 20 },
    });
    await producer.connect();
    await expect(producer.transaction()).rejects.toThrow();
    await producer.disconnect();
  });
});

describe('admin', () => {
  it('creates, lists, grows and deletes topics and reports their offsets', async () => {
    const kafka = kafkaClient(broker.brokers);
    const admin = kafka.admin();
    await admin.connect();
    // waitForLeaders would poll Metadata for a topic that validateOnly did not create (as with real Kafka).
    const validateOnly = { validateOnly: true, waitForLeaders: false };
    expect(
      await admin.createTopics({ ...validateOnly, topics: [{ topic: 'admin-a', numPartitions: 4 }] }),
    ).toBe(true);
    expect(await admin.listTopics()).not.toContain('admin-a');
    expect(
      await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 4 }, { topic: 'admin-b' }] }),
    ).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 4 }] })).toBe(false);
    await expect(admin.createTopics({ topics: [{ topic: 'bad name!' }] })).rejects.toThrow();
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['admin-a', 'admin-b']));

    const producer = kafka.producer();
    await producer.connect();
    const before = Date.now();
    await producer.send({
      topic: 'admin-a',
      messages: [
        { value: '1', partition: 3 },
        { value: '2', partition: 3 },
      ],
    });
    await producer.disconnect();
    expect(await admin.fetchTopicOffsets('admin-a')).toEqual(
      expect.arrayContaining([
        { partition: 0, offset: '0', high: '0', low: '0' },
        { partition: 3, offset: '2', high: '2', low: '0' },
      ]),
    );
    const byTime = await admin.fetchTopicOffsetsByTimestamp('admin-a', before - 1);
    expect(byTime.find((p) => p.partition === 3)?.offset).toBe('0');

    await admin.createPartitions({ topicPartitions: [{ topic: 'admin-b', count: 3 }] });
    await expect(
      admin.createPartitions({ topicPartitions: [{ topic: 'admin-b', count: 2 }] }),
    ).rejects.toThrow();
    const meta = await admin.fetchTopicMetadata({ topics: ['admin-b'] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);

    await admin.deleteTopics({ topics: ['admin-a', 'admin-b'] });
    expect(await admin.listTopics()).not.toEqual(expect.arrayContaining(['admin-a']));
    await admin.disconnect();
  });

  it('honours allowAutoTopicCreation=false from the client (Metadata v4+)', async () => {
    const producer = kafkaClient(broker.brokers, { retry: { retries: 1, initialRetryTime: 20 } }).producer({
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    await expect(producer.send({ topic: 'never-created', messages: [{ value: 'x' }] })).rejects.toThrow();
    await producer.disconnect();
    const admin = kafkaClient(broker.brokers).admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain('never-created');
    await admin.disconnect();
  });
});
