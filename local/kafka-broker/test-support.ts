/**
 * Helpers for the broker's tests (not part of the public API).
 * @module
 */
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { BrokerLogger, LogFields } from './api.ts';
import { crc32c } from './log/crc32c.ts';
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
