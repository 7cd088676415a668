import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, type ApiResult, ErrorCode, type RequestContext } from '../api.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { GroupCoordinator, ManualScheduler } from './index.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const node = () => ({ nodeId: 1, host: '127.0.0.1', port: 9092 });

/** A fake connection whose close can be triggered by the test. */
const connection = () => {
  const closers: (() => void)[] = [];
  let closed = false;
  const ctx = (apiKey: number, apiVersion: number): RequestContext => ({
    apiKey,
    apiVersion,
    correlationId: 1,
    clientId: 'test-client',
    clientHost: '127.0.0.1',
    connectionId: 1,
    get closed() {
      return closed;
    },
    onClose: (cb) => (closed ? cb() : closers.push(cb)),
  });
  const close = () => {
    closed = true;
    for (const cb of closers.splice(0)) cb();
  };
  return { ctx, close };
};

const harness = (opts: { dataDir?: string } = {}) => {
  const coordinator = new GroupCoordinator({
    node,
    logger: quiet,
    scheduler: new ManualScheduler(),
    ...opts,
  });
  const apis = new Map(coordinator.apis().map((a) => [a.key, a]));
  const conn = connection();
  const call = (key: number, version: number, body: Writer, c = conn) =>
    Promise.resolve(apis.get(key)!.handle(c.ctx(key, version), new Reader(body.toBuffer())));
  return { coordinator, apis, conn, call };
};

const joinBody = (version: number, memberId = '') => {
  const w = new Writer().string('g').int32(1000);
  if (version >= 1) w.int32(2000);
  return w
    .string(memberId)
    .string('consumer')
    .array([{ name: 'RoundRobinAssigner', metadata: Buffer.from([1, 2]) }], (w2, p) =>
      w2.string(p.name).bytes(p.metadata),
    );
};

const readJoin = (res: ApiResult, version: number) => {
  const r = new Reader(res!);
  const throttle = version >= 2 ? r.int32() : null;
  return {
    throttle,
    errorCode: r.int16(),
    generationId: r.int32(),
    protocol: r.string(),
    leaderId: r.string(),
    memberId: r.string(),
    members: r.nonNullArray((m) => ({ memberId: m.string(), metadata: m.bytes() })),
    rest: r.remaining(),
  };
};

describe('group coordinator wire handlers', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('advertises the ranges kafkajs and librdkafka need', () => {
    const { apis } = harness();
    const range = (k: number) => [apis.get(k)?.minVersion, apis.get(k)?.maxVersion];
    expect(range(ApiKey.JoinGroup)).toEqual([0, 4]);
    expect(range(ApiKey.OffsetFetch)).toEqual([1, 4]);
    expect(range(ApiKey.OffsetCommit)).toEqual([0, 5]);
    expect(apis.size).toBe(10);
  });

  it.each([0, 1, 2, 4])(
    'JoinGroup v%i and SyncGroup: leader gets members, follower empty assignment',
    async (v) => {
      const { call } = harness();
      const join = readJoin(await call(ApiKey.JoinGroup, v, joinBody(v)), v);
      expect(join).toMatchObject({ throttle: v >= 2 ? 0 : null, errorCode: 0, generationId: 1, rest: 0 });
      expect(join.memberId).toMatch(/^test-client-/);
      expect(join.members).toEqual([{ memberId: join.memberId, metadata: Buffer.from([1, 2]) }]);
      const sync = new Writer()
        .string('g')
        .int32(1)
        .string(join.memberId)
        .array([], () => {});
      const r = new Reader((await call(ApiKey.SyncGroup, 1, sync))!);
      expect([r.int32(), r.int16(), r.int32(), r.remaining()]).toEqual([0, 0, 0, 0]); // empty, not null (-1)
    },
  );

  it('resolves a parked JoinGroup with no response when its connection closes', async () => {
    const { call, conn } = harness();
    const first = readJoin(await call(ApiKey.JoinGroup, 1, joinBody(1)), 1);
    await call(
      ApiKey.SyncGroup,
      0,
      new Writer()
        .string('g')
        .int32(1)
        .string(first.memberId)
        .array([], () => {}),
    );
    const other = connection();
    const parked = call(ApiKey.JoinGroup, 1, joinBody(1), other);
    other.close();
    expect(await parked).toBeNull();
    const hb = await call(ApiKey.Heartbeat, 0, new Writer().string('g').int32(1).string(first.memberId));
    expect(hb?.readInt16BE(0)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = readJoin(await call(ApiKey.JoinGroup, 1, joinBody(1, first.memberId)), 1);
    expect(rejoin).toMatchObject({ errorCode: 0, generationId: 2, leaderId: first.memberId });
    expect(rejoin.members).toHaveLength(1);
    void conn;
  });

  it('commits and fetches offsets across versions and survives a restart with dataDir', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-api-'));
    dirs.push(dataDir);
    const a = harness({ dataDir });
    await a.coordinator.load();
    const partitions = (w: Writer, offset: bigint) =>
      w.array(['orders'], (wt, t) =>
        wt.string(t).array([0], (wp, p) => wp.int32(p).int64(offset).nullableString(null)),
      );
    const v2 = new Writer().string('g').int32(-1).string('').int64(-1);
    const c = new Reader((await a.call(ApiKey.OffsetCommit, 2, partitions(v2, -2n)))!);
    expect([c.int32(), c.string(), c.int32(), c.int32(), c.int16()]).toEqual([1, 'orders', 1, 0, 0]);
    const v5 = new Writer().string('g').int32(-1).string('');
    const c5 = new Reader((await a.call(ApiKey.OffsetCommit, 5, partitions(v5, 41n)))!);
    expect(c5.int32()).toBe(0); // throttle
    await a.coordinator.stop();

    const b = harness({ dataDir });
    await b.coordinator.load();
    const f = new Reader((await b.call(ApiKey.OffsetFetch, 3, new Writer().string('g').int32(-1)))!);
    expect(f.int32()).toBe(0); // throttle
    const topics = f.nonNullArray((t) => ({
      topic: t.string(),
      partitions: t.nonNullArray((p) => [p.int32(), p.int64(), p.nullableString(), p.int16()]),
    }));
    expect(topics).toEqual([{ topic: 'orders', partitions: [[0, 41n, '', 0]] }]);
    expect([f.int16(), f.remaining()]).toEqual([0, 0]);
    await b.coordinator.stop();
  });

  it('describes, lists and deletes groups', async () => {
    const { call } = harness();
    const join = readJoin(await call(ApiKey.JoinGroup, 1, joinBody(1)), 1);
    const describe = async () => {
      const r = new Reader(
        (await call(
          ApiKey.DescribeGroups,
          0,
          new Writer().array(['g', 'x'], (w, id) => w.string(id)),
        ))!,
      );
      return r.nonNullArray((g) => ({
        errorCode: g.int16(),
        groupId: g.string(),
        state: g.string(),
        protocolType: g.string(),
        protocol: g.string(),
        members: g.nonNullArray((m) => [
          m.string(),
          m.string(),
          m.string(),
          m.bytes().length,
          m.bytes().length,
        ]),
      }));
    };
    expect((await describe())[0]).toMatchObject({ state: 'CompletingRebalance', protocol: '' });
    await call(
      ApiKey.SyncGroup,
      0,
      new Writer()
        .string('g')
        .int32(1)
        .string(join.memberId)
        .array([], () => {}),
    );
    expect(await describe()).toEqual([
      {
        errorCode: 0,
        groupId: 'g',
        state: 'Stable',
        protocolType: 'consumer',
        protocol: 'RoundRobinAssigner',
        members: [[join.memberId, 'test-client', '/127.0.0.1', 2, 0]],
      },
      { errorCode: 0, groupId: 'x', state: 'Dead', protocolType: '', protocol: '', members: [] },
    ]);
    const list = new Reader((await call(ApiKey.ListGroups, 1, new Writer()))!);
    expect([list.int32(), list.int16(), list.nonNullArray((g) => [g.string(), g.string()])]).toEqual([
      0,
      0,
      [['g', 'consumer']],
    ]);
    const del = async () => {
      const r = new Reader(
        (await call(
          ApiKey.DeleteGroups,
          0,
          new Writer().array(['g', 'x'], (w, id) => w.string(id)),
        ))!,
      );
      return [r.int32(), r.nonNullArray((g) => [g.string(), g.int16()])];
    };
    expect(await del()).toEqual([
      0,
      [
        ['g', ErrorCode.NON_EMPTY_GROUP],
        ['x', ErrorCode.GROUP_ID_NOT_FOUND],
      ],
    ]);
    await call(ApiKey.LeaveGroup, 1, new Writer().string('g').string(join.memberId));
    expect(await del()).toEqual([
      0,
      [
        ['g', 0],
        ['x', ErrorCode.GROUP_ID_NOT_FOUND],
      ],
    ]);
    expect((await describe())[0]).toMatchObject({ state: 'Dead' });
  });

  it('FindCoordinator answers this node for v0 and v2', async () => {
    const { call } = harness();
    const v0 = new Reader((await call(ApiKey.FindCoordinator, 0, new Writer().string('g')))!);
    expect([v0.int16(), v0.int32(), v0.string(), v0.int32(), v0.remaining()]).toEqual([
      0,
      1,
      '127.0.0.1',
      9092,
      0,
    ]);
    const v2 = new Reader((await call(ApiKey.FindCoordinator, 2, new Writer().string('g').int8(0)))!);
    expect([v2.int32(), v2.int16(), v2.nullableString(), v2.int32(), v2.string(), v2.int32()]).toEqual([
      0,
      0,
      null,
      1,
      '127.0.0.1',
      9092,
    ]);
    const bad = new Reader((await call(ApiKey.FindCoordinator, 0, new Writer().string('')))!);
    expect(bad.int16()).toBe(ErrorCode.INVALID_GROUP_ID);
  });
});
