/**
 * Helpers for the broker's tests (not part of the public API).
 * @module
 */
import { createConnection, type Socket } from 'node:net';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { BrokerLogger, LogFields } from './api.ts';
import { crc32c } from './log/crc32c.ts';
import { Reader } from './protocol/reader.ts';
import { Writer } from './protocol/writer.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 25, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A kafkajs client for `brokers` that logs only errors and retries quickly. */
export function kafkaClient(brokers: string[], overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'broker-test',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 8 },
    ...overrides,
  });
}

/** Consumer settings that keep rebalances and idle fetches short in tests. */
export const fastConsumer = {
  maxWaitTimeInMs: 100,
  heartbeatInterval: 100,
  sessionTimeout: 10_000,
  rebalanceTimeout: 10_000,
  retry: { initialRetryTime: 50, retries: 8 },
} as const;

/** A logger that records lines in memory. */
export function memoryLogger(): BrokerLogger & {
  lines: Array<{ level: string; msg: string; fields?: LogFields }>;
} {
  const lines: Array<{ level: string; msg: string; fields?: LogFields }> = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => {
    lines.push({ level, msg, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Options of {@link buildBatch}. */
export interface TestBatchOptions {
  records: Array<{ key?: string; value: string; timestampDelta?: number }>;
  firstTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

/** An uncompressed RecordBatch v2 with a valid CRC (what a client would produce). */
export function buildBatch(o: TestBatchOptions): Buffer {
  const records = new Writer();
  o.records.forEach((rec, i) => {
    const body = new Writer()
      .int8(0)
      .varlong(rec.timestampDelta ?? 0)
      .varint(i);
    if (rec.key === undefined) body.varint(-1);
    else body.varint(Buffer.byteLength(rec.key)).raw(Buffer.from(rec.key));
    body.varint(Buffer.byteLength(rec.value)).raw(Buffer.from(rec.value)).varint(0);
    const bytes = body.toBuffer();
    records.varint(bytes.length).raw(bytes);
  });
  const first = o.firstTimestamp ?? Date.now();
  const maxDelta = Math.max(...o.records.map((r) => r.timestampDelta ?? 0));
  const payload = records.toBuffer();
  const w = new Writer()
    .int64(0)
    .int32(49 + payload.length)
    .int32(0)
    .int8(2)
    .uint32(0)
    .int16(0)
    .int32(o.records.length - 1)
    .int64(first)
    .int64(first + maxDelta)
    .int64(o.producerId ?? -1)
    .int16(o.producerEpoch ?? -1)
    .int32(o.baseSequence ?? -1)
    .int32(o.records.length)
    .raw(payload);
  const batch = Buffer.from(w.toBuffer());
  batch.writeUInt32BE(crc32c(batch, 21), 17);
  return batch;
}

/** A raw client connection speaking request header v1, for wire-level tests. */
export class RawClient {
  private buffered = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private correlationId = 0;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects to `port` on 127.0.0.1. */
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request without waiting for a response; returns its correlation id. */
  send(apiKey: number, apiVersion: number, body: Buffer): number {
    const id = ++this.correlationId;
    const header = new Writer()
      .int16(apiKey)
      .int16(apiVersion)
      .int32(id)
      .nullableString('raw-test')
      .toBuffer();
    this.socket.write(
      new Writer()
        .int32(header.length + body.length)
        .raw(header)
        .raw(body)
        .toBuffer(),
    );
    return id;
  }

  /** The next response frame: its correlation id and a reader over the body. */
  async receive(timeoutMs = 10_000): Promise<{ correlationId: number; body: Reader }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length >= 4 + size) {
          const frame = this.buffered.subarray(4, 4 + size);
          this.buffered = this.buffered.subarray(4 + size);
          const body = new Reader(frame);
          return { correlationId: body.int32(), body };
        }
      }
      if (this.socket.destroyed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a request and returns the reader over its response body. */
  async request(apiKey: number, apiVersion: number, body: Buffer): Promise<Reader> {
    const id = this.send(apiKey, apiVersion, body);
    const res = await this.receive();
    if (res.correlationId !== id) throw new Error(`correlation id ${res.correlationId}, expected ${id}`);
    return res.body;
  }

  /** Resolves once the server has closed the connection. */
  closed(timeoutMs = 10_000): Promise<void> {
    return waitFor(() => this.socket.destroyed || this.socket.readableEnded, {
      timeoutMs,
      what: 'close',
    }).then(() => undefined);
  }

  close(): void {
    this.socket.destroy();
  }
}
