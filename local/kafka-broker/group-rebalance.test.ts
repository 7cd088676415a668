import { setTimeout as delay } from 'node:timers/promises';
import type { Admin, Producer } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cluster,
  runConsumer,
  type Seen,
  spawnConsumer,
  startCluster,
  waitFor,
} from './group/kafkajs-test-kit.ts';

const TOPIC = 'orders';
const GROUP = 'billing';
const PARTITIONS = 4;

/** Produces small batches round-robin over all partitions until stopped; records every acked value. */
function produceContinuously(producer: Producer) {
  const produced: string[] = [];
  let running = true;
  let i = 0;
  const done = (async () => {
    while (running) {
      const batch = Array.from({ length: 8 }, () => ({ value: `m${i}`, partition: i++ % PARTITIONS }));
      await producer.send({ topic: TOPIC, messages: batch });
      produced.push(...batch.map((m) => m.value));
      await delay(25); // pacing, not waiting for a condition
    }
  })();
  return {
    produced,
    async stop() {
      running = false;
      await done;
    },
  };
}

const groupMembers = async (admin: Admin) => {
  const { groups } = await admin.describeGroups([GROUP]);
  return { state: groups[0]!.state, members: groups[0]!.members.map((m) => m.memberId) };
};

const stableWith =
  (admin: Admin, n: number, include: () => string[] = () => []) =>
  async () => {
    const g = await groupMembers(admin);
    return g.state === 'Stable' && g.members.length === n && include().every((id) => g.members.includes(id));
  };

describe('consumer group rebalancing with kafkajs', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('loses no message while members join, leave and crash, and resumes from committed offsets', async () => {
    cluster = await startCluster();
    const admin = cluster.kafka('admin').admin();
    const producer = cluster.kafka('producer').producer();
    cluster.teardown.push(
      () => admin.disconnect(),
      () => producer.disconnect(),
    );
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });

    const seen: Seen[] = [];
    const stream = produceContinuously(producer);
    await runConsumer(cluster, { name: 'a', groupId: GROUP, topic: TOPIC, seen });
    const b = await runConsumer(cluster, { name: 'b', groupId: GROUP, topic: TOPIC, seen });
    await waitFor(stableWith(admin, 2), 'a and b share the group');
    await waitFor(() => seen.some((s) => s.by === 'a') && seen.some((s) => s.by === 'b'), 'a and b consume');

    // A third member joins mid-stream (in its own process, so it can be killed later).
    const c = spawnConsumer(cluster, { name: 'c', groupId: GROUP, topic: TOPIC, seen });
    await waitFor(
      stableWith(admin, 3, () => c.memberIds.slice(-1)),
      'c joined the group',
    );
    await waitFor(() => seen.some((s) => s.by === 'c'), 'c consumed messages');

    // b leaves cleanly (LeaveGroup).
    await b.disconnect();
    await waitFor(
      stableWith(admin, 2, () => c.memberIds.slice(-1)),
      'a and c after b left',
    );
    const cBeforeCrash = seen.filter((s) => s.by === 'c').length;
    await waitFor(() => seen.filter((s) => s.by === 'c').length > cBeforeCrash, 'c consumed after rebalance');

    // c crashes: SIGKILL, no LeaveGroup; the broker expires its session.
    await c.kill();
    await waitFor(stableWith(admin, 1), 'a alone after c session expired');

    await stream.stop();
    const produced = new Set(stream.produced);
    const consumedBy = () => new Set(seen.map((s) => s.value));
    await waitFor(() => [...produced].every((v) => consumedBy().has(v)), 'every produced message consumed');
    expect(new Set(seen.map((s) => s.by))).toEqual(new Set(['a', 'b', 'c']));

    // Stop a cleanly: committed offsets now equal the high watermarks.
    await cluster.consumers[0]!.disconnect();
    await waitFor(async () => (await groupMembers(admin)).state === 'Empty', 'group empty');
    const high = await admin.fetchTopicOffsets(TOPIC);
    const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    const byPartition = (xs: { partition: number; offset: string }[]) =>
      Object.fromEntries(xs.map((x) => [x.partition, x.offset]));
    expect(byPartition(committed!.partitions)).toEqual(byPartition(high));

    // A restarted consumer resumes exactly after the committed offsets.
    const fresh = Array.from({ length: 8 }, (_, i) => ({
      value: `after-restart-${i}`,
      partition: i % PARTITIONS,
    }));
    await producer.send({ topic: TOPIC, messages: fresh });
    const after: Seen[] = [];
    const d = await runConsumer(cluster, { name: 'd', groupId: GROUP, topic: TOPIC, seen: after });
    let fetches = 0;
    d.on(d.events.FETCH, () => fetches++);
    await waitFor(() => after.length >= fresh.length, 'd consumed the new messages');
    const settled = fetches + 5;
    await waitFor(() => fetches >= settled, 'd fetched a few more times');
    expect(after.map((s) => s.value).sort()).toEqual(fresh.map((m) => m.value).sort());
  }, 60_000);
});
