/**
 * A consumer process for crash-loop.int.test.ts: the orders store on `DATABASE_URL` (durable attempts), one event
 * function in group `GROUP_ID` on `TOPIC`; its handler kills its own process (SIGKILL: no cleanup, no commit) on
 * the order `poison`, and handles every other event. Prints `joined` once it is in the group.
 */

import { z } from 'zod';
import { ordersStore } from '../../db/orders/repo.ts';
import { createOrdersStore } from '../../db/orders/store.pg.ts';
import { openPostgres } from '../../db/postgres/connect.ts';
import { defineEvent, defineEventFunction, type Ports } from '../../runtime/index.ts';
import { createKafkaClient, sharedProducer } from '../../runtime/kafka/client.ts';
import { startEventConsumer } from '../../runtime/kafka/consumer.ts';
import { FAST_CONSUMER, testLogger } from '../../runtime/kafka/test-kit.ts';

const { DATABASE_URL, BROKERS, TOPIC, GROUP_ID, ATTEMPTS } = process.env as Record<string, string>;
const Probe = defineEvent('CrashProbe', {
  version: 1,
  topic: TOPIC!,
  schema: z.object({ orderId: z.string() }),
  key: (data) => data.orderId,
});
const fn = defineEventFunction({
  id: `crash-${GROUP_ID}`,
  events: [Probe],
  groupId: GROUP_ID!,
  store: ordersStore,
  retries: { attempts: Number(ATTEMPTS), initialBackoffMs: 10, maxBackoffMs: 50 },
  handler: async ({ event }) => {
    if (event.data.orderId === 'poison') process.kill(process.pid, 'SIGKILL');
  },
});

const database = await openPostgres({ url: DATABASE_URL! });
const logger = testLogger();
const kafka = createKafkaClient({ brokers: BROKERS!.split(','), clientId: `child-${process.pid}`, logger });
const producer = sharedProducer(kafka);
await producer.connect();
const consumer = await startEventConsumer(
  fn,
  { stores: { orders: createOrdersStore(database.db) }, ports: {} as Ports, clock: () => new Date(), logger },
  kafka,
  producer,
  { ...FAST_CONSUMER, batchSize: 10 },
);
await consumer.ready;
process.stdout.write('joined\n');
process.once('SIGTERM', async () => {
  await consumer.stop();
  await producer.disconnect();
  await database.close();
  process.exit(0);
});
