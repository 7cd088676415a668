import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api.ts';
import { type RunningBroker, startBroker } from './index.ts';
import { Writer } from './protocol/writer.ts';
import { kafkaClient, memoryLogger, RawClient } from './test-support.ts';

const logger = memoryLogger();
let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker({ logger, maxFrameBytes: 1024 * 1024 });
});
afterAll(async () => {
  await broker.stop();
});

const frame = (body: Buffer) => new Writer().int32(body.length).raw(body).toBuffer();
const header = (apiKey: number, apiVersion: number, correlationId: number) =>
  new Writer().int16(apiKey).int16(apiVersion).int32(correlationId).nullableString('garbage').toBuffer();

/** Sends bytes on a fresh connection and expects the broker to close it. */
async function expectClosed(bytes: Buffer): Promise<void> {
  const client = await RawClient.connect(broker.port);
  client.socket.write(bytes);
  await client.closed();
}

describe('hostile and malformed input', () => {
  it('closes only the offending connection and keeps serving a kafkajs client meanwhile', async () => {
    const kafka = kafkaClient(broker.brokers);
    const producer = kafka.producer();
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    let sent = 0;
    const send = async () => {
      await producer.send({ topic: 'survivor', messages: [{ value: `m${sent}` }] });
      sent++;
    };
    await send();

    await expectClosed(new Writer().int32(-5).toBuffer()); // negative size
    await expectClosed(new Writer().int32(2 * 1024 * 1024).toBuffer()); // larger than maxFrameBytes
    await expectClosed(frame(Buffer.from([0, 3]))); // too short for a header
    await expectClosed(frame(header(999, 0, 1))); // unknown api key
    await expectClosed(frame(header(ApiKey.Produce, 0, 1))); // unadvertised version
    // Metadata v1 whose topic array claims more entries than there are bytes.
    await expectClosed(
      frame(Buffer.concat([header(ApiKey.Metadata, 1, 1), new Writer().int32(1000).toBuffer()])),
    );
    // A Produce cut short in the middle of its body.
    const produce = new Writer()
      .nullableString(null)
      .int16(1)
      .int32(1000)
      .int32(1)
      .string('survivor')
      .int32(1);
    await expectClosed(frame(Buffer.concat([header(ApiKey.Produce, 3, 1), produce.toBuffer()])));
    await send();

    // Random bytes, framed or not, on fresh connections while the kafkajs producer keeps sending.
    let stop = false;
    const background = (async () => {
      while (!stop) await send();
    })();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        fc.boolean(),
        async (bytes, framed) => {
          const client = await RawClient.connect(broker.port);
          client.socket.write(framed ? frame(Buffer.from(bytes)) : Buffer.from(bytes));
          // Let the broker chew on it, then hang up (a partial frame simply waits for more bytes).
          await new Promise((r) => setTimeout(r, 2));
          client.close();
        },
      ),
      { numRuns: 200, seed: 20_241_123 },
    );
    stop = true;
    await background;
    expect(sent).toBeGreaterThan(3);
    // A truncated frame followed by the client going away.
    const truncated = await RawClient.connect(broker.port);
    truncated.socket.write(frame(Buffer.concat([header(ApiKey.ApiVersions, 2, 1)])).subarray(0, 9));
    truncated.close();

    await send();
    const offsets = await admin.fetchTopicOffsets('survivor');
    expect(Number(offsets[0]?.high)).toBe(sent);
    await producer.disconnect();
    await admin.disconnect();
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(logger.lines.some((l) => l.level === 'warn')).toBe(true);
  });

  it('reassembles frames split byte by byte and answers coalesced frames in order', async () => {
    const client = await RawClient.connect(broker.port);
    const two = Buffer.concat([
      frame(header(ApiKey.ApiVersions, 2, 41)),
      frame(header(ApiKey.ApiVersions, 1, 42)),
    ]);
    for (const byte of two.subarray(0, 10)) {
      client.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    client.socket.write(two.subarray(10));
    const first = await client.receive();
    const second = await client.receive();
    expect([first.correlationId, second.correlationId]).toEqual([41, 42]);
    expect(first.body.int16()).toBe(ErrorCode.NONE);
    client.close();
  });

  it('answers ApiVersions v3 (librdkafka) in the v0 layout with UNSUPPORTED_VERSION', async () => {
    const client = await RawClient.connect(broker.port);
    // Header v2 and a compact body, as librdkafka sends it; only key/version/correlation id are read.
    const body = Buffer.concat([
      header(ApiKey.ApiVersions, 3, 7),
      Buffer.from([0, 8, 0x6b, 0x63, 0x61, 0x74, 0, 0]),
    ]);
    client.socket.write(frame(body));
    const res = await client.receive();
    expect(res.correlationId).toBe(7);
    const r = res.body;
    expect(r.int16()).toBe(ErrorCode.UNSUPPORTED_VERSION);
    const apis = r.nonNullArray((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    expect(apis).toContainEqual({ key: ApiKey.ApiVersions, min: 0, max: 2 });
    expect(r.remaining()).toBe(0);
    client.close();
  });
});
