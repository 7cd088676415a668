import { AssignerProtocol, type Consumer, type EachBatchPayload } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, fastGroup, type Seen, startCluster, waitFor } from './group/kafkajs-test-kit.ts';

const TOPIC = 'payments';
const GROUP = 'reporting';

/** A consumer using eachBatch that records every message and counts fetches. */
async function batchConsumer(cluster: Cluster, seen: Seen[]) {
  const consumer = cluster.kafka('batch-client').consumer({ groupId: GROUP, ...fastGroup });
  cluster.consumers.push(consumer);
  const stats = { fetches: 0, batches: 0 };
  consumer.on(consumer.events.FETCH, () => stats.fetches++);
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }: EachBatchPayload) => {
      stats.batches++;
      for (const m of batch.messages) {
        seen.push({
          by: 'batch',
          partition: batch.partition,
          offset: Number(m.offset),
          value: m.value!.toString(),
        });
      }
    },
  });
  /** Waits until the consumer has completed `n` more fetch round trips. */
  const moreFetches = async (n: number) => {
    const target = stats.fetches + n;
    await waitFor(() => stats.fetches >= target, `${n} more fetches`);
  };
  return { consumer, stats, moreFetches };
}

const send = (cluster: Cluster, values: string[], partition: number) =>
  (async () => {
    const producer = cluster.kafka('producer').producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, messages: values.map((value) => ({ value, partition })) });
    await producer.disconnect();
  })();

const values = (seen: Seen[], partition?: number) =>
  seen.filter((s) => partition === undefined || s.partition === partition).map((s) => s.value);

describe('group admin and consumer controls with kafkajs', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('describes, lists, fetches offsets of and deletes groups; seeks, pauses and resumes an eachBatch consumer', async () => {
    cluster = await startCluster();
    const admin = cluster.kafka('admin').admin();
    cluster.teardown.push(() => admin.disconnect());
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }] });
    await send(cluster, ['a0', 'a1', 'a2', 'a3'], 0);
    await send(cluster, ['b0', 'b1'], 1);

    const seen: Seen[] = [];
    const { consumer, moreFetches } = await batchConsumer(cluster, seen);
    await waitFor(() => seen.length >= 6, 'initial messages');
    expect(values(seen, 0)).toEqual(['a0', 'a1', 'a2', 'a3']);

    // describeGroups: a Stable group with one member and its real assignment.
    const { groups } = await admin.describeGroups([GROUP, 'no-such-group']);
    expect(groups[0]).toMatchObject({
      groupId: GROUP,
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'RoundRobinAssigner',
    });
    expect(groups[0]!.members).toHaveLength(1);
    const member = groups[0]!.members[0]!;
    expect(member).toMatchObject({ clientId: 'batch-client', clientHost: '/127.0.0.1' });
    expect(AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment).toEqual({
      [TOPIC]: [0, 1],
    });
    expect(AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.topics).toEqual([TOPIC]);
    expect(groups[1]).toMatchObject({ groupId: 'no-such-group', state: 'Dead', members: [] });

    // listGroups
    expect((await admin.listGroups()).groups).toEqual([{ groupId: GROUP, protocolType: 'consumer' }]);

    // fetchOffsets with and without topics (OffsetFetch v3+ with null topics).
    const committed = { [TOPIC]: { 0: '4', 1: '2' } };
    const asMap = (rows: { topic: string; partitions: { partition: number; offset: string }[] }[]) =>
      Object.fromEntries(
        rows.map((r) => [r.topic, Object.fromEntries(r.partitions.map((p) => [p.partition, p.offset]))]),
      );
    await waitFor(async () => {
      const rows = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      return JSON.stringify(asMap(rows)) === JSON.stringify(committed);
    }, 'offsets committed after the first batches');
    expect(asMap(await admin.fetchOffsets({ groupId: GROUP }))).toEqual(committed);

    // seek: re-read partition 0 from offset 2.
    consumer.seek({ topic: TOPIC, partition: 0, offset: '2' });
    await waitFor(() => values(seen, 0).length >= 6, 'messages after seek');
    expect(values(seen, 0)).toEqual(['a0', 'a1', 'a2', 'a3', 'a2', 'a3']);

    // pause: new messages stay unread across several fetches; resume delivers them.
    consumer.pause([{ topic: TOPIC }]);
    const before = seen.length;
    await send(cluster, ['b2', 'b3'], 1);
    await moreFetches(5);
    expect(seen.length).toBe(before);
    expect(consumer.paused()).toEqual([{ topic: TOPIC, partitions: [0, 1] }]);
    consumer.resume([{ topic: TOPIC }]);
    await waitFor(() => values(seen, 1).includes('b3'), 'messages after resume');
    expect(values(seen, 1)).toEqual(['b0', 'b1', 'b2', 'b3']);

    // deleteGroups: refused while the group has members, accepted once it is Empty.
    await expect(admin.deleteGroups([GROUP])).rejects.toMatchObject({
      name: 'KafkaJSDeleteGroupsError',
      groups: [expect.objectContaining({ groupId: GROUP, errorCode: 68 })],
    });
    await stopConsumer(cluster, consumer);
    expect((await admin.describeGroups([GROUP])).groups[0]).toMatchObject({ state: 'Empty', members: [] });
    expect(asMap(await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))).toEqual({
      [TOPIC]: { 0: '4', 1: '4' },
    });

    // setOffsets (needs an Empty group) then deleteGroups.
    await admin.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [{ partition: 0, offset: '1' }] });
    expect(asMap(await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[TOPIC]?.[0]).toBe('1');
    expect(await admin.deleteGroups([GROUP])).toEqual([{ groupId: GROUP, errorCode: 0 }]);
    expect((await admin.describeGroups([GROUP])).groups[0]).toMatchObject({ state: 'Dead' });
    expect((await admin.listGroups()).groups).toEqual([]);
    expect(asMap(await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))).toEqual({
      [TOPIC]: { 0: '-1', 1: '-1' },
    });
  }, 60_000);
});

async function stopConsumer(cluster: Cluster, consumer: Consumer): Promise<void> {
  await consumer.disconnect();
  cluster.consumers.splice(cluster.consumers.indexOf(consumer), 1);
}
