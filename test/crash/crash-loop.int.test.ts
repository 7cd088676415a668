/**
 * Issue 9, defect 3: a message that keeps killing its consumer reaches the dead-letter topic after its attempts,
 * across processes. Each consumer is a child process that SIGKILLs itself in the handler of the poison message
 * (no cleanup, nothing committed); the next process of the group gets the message again. Attempts are counted in
 * the orders database (PostgreSQL server: `DATABASE_URL`), so after `ATTEMPTS` deaths the poison is dead-lettered
 * without running, and the messages around it are handled once. Skipped, in one line, without a server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { isPostgresUrl, openPostgres, type PostgresDatabase } from '../../db/postgres/connect.ts';
import { migrate } from '../../db/postgres/migrate.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../db/postgres/scratch-database.ts';
import { encodeEvent } from '../../runtime/codec.ts';
import {
  headerText,
  readTopic,
  startTestKafka,
  type TestKafka,
  waitFor,
} from '../../runtime/kafka/test-kit.ts';

const url = process.env.DATABASE_URL;
const usable = url !== undefined && isPostgresUrl(url);
if (!usable) console.log('[skipped] crash-loop suite: DATABASE_URL is not set to a postgres:// URL');

const ATTEMPTS = 3;
const ROOT = join(import.meta.dirname, '..', '..');

describe.skipIf(!usable)('a message that kills its consumer, again and again', () => {
  let scratch: ScratchDatabase;
  let database: PostgresDatabase;
  let k: TestKafka;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase(url!);
    database = await openPostgres({ url: scratch.url });
    await migrate(createOrdersStore(database.db));
    k = await startTestKafka();
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await k?.stop();
    await database?.close();
    await scratch?.drop();
  });

  /** Starts a consumer process; resolves with its exit once it has died (or been stopped). */
  function startChild(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/crash/crash-loop-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    return { child, exited };
  }

  it(`is dead-lettered after ${ATTEMPTS} deaths; its neighbours are handled once`, async () => {
    const topic = `crash-${randomUUID().slice(0, 8)}`;
    const groupId = `crash-group-${randomUUID().slice(0, 8)}`;
    const admin = k.kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }, { topic: `crash-${groupId}.dlq` }] });
    await admin.disconnect();
    const event = (orderId: string) => {
      const record = encodeEvent({
        id: randomUUID(),
        type: 'CrashProbe',
        version: 1,
        topic,
        key: orderId,
        time: new Date().toISOString(),
        data: { orderId },
      });
      return {
        id: record.eventId,
        message: { key: record.key, value: record.value, headers: record.headers },
      };
    };
    const [before, poison, after] = [event('before'), event('poison'), event('after')];
    await k.producer.send({ topic, acks: -1, messages: [before.message, poison.message, after.message] });
    const dlq = await readTopic(k.kafka, `crash-${groupId}.dlq`);

    const env = {
      DATABASE_URL: scratch.url,
      BROKERS: k.broker.brokers.join(','),
      TOPIC: topic,
      GROUP_ID: groupId,
      ATTEMPTS: String(ATTEMPTS),
    };
    const handledIds = async () => {
      const { rows } = (await database.db.execute(
        sql`select event_id from orders.inbox where consumer = ${groupId}`,
      )) as unknown as { rows: { event_id: string }[] };
      return rows.map((row) => row.event_id);
    };
    let deaths = 0;
    for (let run = 0; run < ATTEMPTS + 3 && dlq.messages.length === 0; run++) {
      const { child, exited } = startChild(env);
      const outcome = await Promise.race([
        exited,
        waitFor(() => dlq.messages.length > 0, { what: 'dead letter', timeoutMs: 45_000 }).then(
          () => 'dlq' as const,
        ),
      ]);
      if (outcome === 'SIGKILL') deaths += 1;
      else {
        // The poison is dead-lettered; the message after it is handled next: let it finish before stopping.
        await waitFor(async () => (await handledIds()).length === 2, {
          what: 'the message after the poison handled',
          timeoutMs: 30_000,
        });
        child.kill('SIGTERM');
        await exited;
      }
    }
    expect(deaths).toBe(ATTEMPTS);
    expect(dlq.messages).toHaveLength(1);
    expect(headerText(dlq.messages[0]!, 'dlq-kind')).toBe('retries-exhausted');
    expect(headerText(dlq.messages[0]!, 'dlq-original-offset')).toBe('1');
    expect(headerText(dlq.messages[0]!, 'dlq-reason')).toMatch(/none finished/);
    expect((await handledIds()).sort()).toEqual([before.id, after.id].sort());
    await dlq.stop();
  }, 240_000);
});
