import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../api.ts';
import { setup } from './test-helpers.ts';

const A = (s: string) => Buffer.from(s);

/** One member joined and synced: group Stable at generation 1 with m1 as leader. */
const stableWithOne = () => {
  const t = setup();
  const j1 = t.join();
  t.sync('m1', 1, [{ memberId: 'm1', assignment: A('a1') }]);
  expect(j1.result?.errorCode).toBe(0);
  return t;
};

describe('GroupManager join and sync', () => {
  it('makes the first member leader and completes its join at once', () => {
    const t = setup();
    const j = t.join();
    expect(j.result).toEqual({
      errorCode: 0,
      generationId: 1,
      protocol: 'RoundRobinAssigner',
      leaderId: 'm1',
      memberId: 'm1',
      members: [{ memberId: 'm1', metadata: A('meta') }],
    });
    expect(t.group()?.state).toBe('CompletingRebalance');
    const s = t.sync('m1', 1, [{ memberId: 'm1', assignment: A('a1') }]);
    expect(s.result).toEqual({ errorCode: 0, assignment: A('a1') });
    expect(t.group()?.state).toBe('Stable');
  });

  it('parks a new member until the existing one rejoins, then answers both with the next generation', () => {
    const t = stableWithOne();
    const j2 = t.join({ clientId: 'other' });
    expect(j2.result).toBeUndefined();
    expect(t.group()?.state).toBe('PreparingRebalance');
    expect(t.groups.heartbeat('g', 'm1', 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(t.groups.checkCommit('g', 'm1', 1)).toBe(ErrorCode.NONE); // old generation commit accepted
    const j1 = t.join({ memberId: 'm1' });
    expect(j1.result?.generationId).toBe(2);
    expect(j2.result?.generationId).toBe(2);
    expect(j1.result?.members.map((m) => m.memberId)).toEqual(['m1', 'm2']);
    expect(j2.result?.members).toEqual([]);
    expect(j2.result?.leaderId).toBe('m1');
  });

  it('parks followers in SyncGroup and fills members missing from the leader assignment with empty bytes', () => {
    const t = stableWithOne();
    t.join();
    t.join({ memberId: 'm1' });
    const s2 = t.sync('m2', 2);
    expect(s2.result).toBeUndefined();
    expect(t.groups.heartbeat('g', 'm2', 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(t.groups.checkCommit('g', 'm2', 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const s1 = t.sync('m1', 2, [{ memberId: 'm1', assignment: A('all') }]);
    expect(s1.result).toEqual({ errorCode: 0, assignment: A('all') });
    expect(s2.result).toEqual({ errorCode: 0, assignment: Buffer.alloc(0) });
    expect(s2.result?.assignment).not.toBeNull();
    expect(t.group()?.state).toBe('Stable');
    expect(t.sync('m2', 2).result?.errorCode).toBe(0); // Stable: answered from stored assignment
  });

  it('answers parked SyncGroups with 27 and empty bytes when a rebalance interrupts', () => {
    const t = stableWithOne();
    t.join();
    t.join({ memberId: 'm1' });
    const s2 = t.sync('m2', 2);
    t.join(); // m3 arrives before the leader synced
    expect(s2.result).toEqual({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
    expect(t.group()?.state).toBe('PreparingRebalance');
  });

  it('rejects sync with the wrong generation, unknown members and syncs during the join phase', () => {
    const t = stableWithOne();
    expect(t.sync('m1', 7).result?.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(t.sync('nobody', 1).result?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    t.join();
    expect(t.sync('m1', 1).result).toEqual({
      errorCode: ErrorCode.REBALANCE_IN_PROGRESS,
      assignment: Buffer.alloc(0),
    });
  });

  it('validates group id, session timeout, member id and protocols', () => {
    const t = setup();
    expect(t.join({ groupId: '' }).result?.errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect(t.join({ sessionTimeoutMs: 0 }).result?.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(t.join({ memberId: 'ghost' }).result?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(t.join({ protocols: [] }).result?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    t.join();
    const other = t.join({ protocols: [{ name: 'Other', metadata: A('') }] });
    expect(other.result?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(t.join({ protocolType: 'connect' }).result?.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(t.join({ memberId: 'ghost' }).result?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('selects the protocol most members prefer among those all support', () => {
    const t = setup();
    const p = (...names: string[]) => names.map((name) => ({ name, metadata: A(name) }));
    t.join({ protocols: p('X', 'Y') });
    t.sync('m1', 1);
    t.join({ protocols: p('Y', 'X') });
    const j3 = t.join({ protocols: p('Y', 'Z') }); // only Y is common to all three once m1 rejoins
    t.join({ memberId: 'm1', protocols: p('X', 'Y') });
    expect(j3.result?.protocol).toBe('Y');
  });
});

describe('GroupManager timers', () => {
  it('removes members that do not rejoin before the rebalance timeout', () => {
    const t = stableWithOne();
    const j2 = t.join({ rebalanceTimeoutMs: 3000 });
    t.clock.advance(900);
    expect(t.groups.heartbeat('g', 'm1', 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    t.clock.advance(900);
    expect(t.groups.heartbeat('g', 'm1', 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    t.clock.advance(900);
    expect(t.groups.heartbeat('g', 'm1', 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    t.clock.advance(2300); // m1's rebalance timeout (5000) elapses: the larger of the two
    expect(j2.result).toMatchObject({ errorCode: 0, generationId: 2, leaderId: 'm2' });
    expect(t.groups.heartbeat('g', 'm1', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('expires a silent member and rebalances the survivors', () => {
    const t = stableWithOne();
    t.join();
    t.join({ memberId: 'm1' });
    t.sync('m2', 2);
    t.sync('m1', 2);
    t.clock.advance(600);
    expect(t.groups.heartbeat('g', 'm2', 2)).toBe(0);
    t.clock.advance(600); // m1 silent for 1200 ms > 1000 ms session
    expect(t.group()?.members.has('m1')).toBe(false);
    expect(t.groups.heartbeat('g', 'm2', 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const j = t.join({ memberId: 'm2' });
    expect(j.result).toMatchObject({ generationId: 3, leaderId: 'm2', members: [{ memberId: 'm2' }] });
  });

  it('keeps members parked in JoinGroup or SyncGroup alive past their session timeout', () => {
    const t = stableWithOne();
    const j2 = t.join();
    for (let i = 0; i < 20; i++) {
      t.clock.advance(200); // m1 heartbeats, m2 is parked in JoinGroup for 4 s (session: 1 s)
      expect(t.groups.heartbeat('g', 'm1', 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    t.join({ memberId: 'm1' });
    expect(j2.result?.errorCode).toBe(0);
    const s2 = t.sync('m2', 2);
    for (let i = 0; i < 6; i++) {
      t.clock.advance(500); // leader slow to sync but alive; m2 parked in SyncGroup
      expect(t.groups.heartbeat('g', 'm1', 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(t.group()?.members.has('m2')).toBe(true);
    expect(s2.result).toBeUndefined();
  });

  it('goes Empty with a new generation when the last member expires', () => {
    const t = stableWithOne();
    t.clock.advance(1001);
    expect(t.group()).toMatchObject({ state: 'Empty', generationId: 2, protocol: null, leaderId: null });
    expect(t.clock.pending).toBe(0);
  });

  it('waits for the initial rebalance delay before completing the first join', () => {
    const t = setup({ initialRebalanceDelayMs: 300 });
    const j1 = t.join();
    const j2 = t.join();
    t.clock.advance(299);
    expect(j1.result).toBeUndefined();
    t.clock.advance(1);
    expect(j1.result?.members).toHaveLength(2);
    expect(j2.result?.generationId).toBe(1);
  });
});

describe('GroupManager leave and disconnect', () => {
  it('hands leadership over when the leader leaves', () => {
    const t = stableWithOne();
    t.join();
    t.join({ memberId: 'm1' });
    expect(t.groups.leave('g', 'm1')).toBe(0);
    expect(t.group()?.state).toBe('PreparingRebalance');
    const j = t.join({ memberId: 'm2' });
    expect(j.result).toMatchObject({ generationId: 3, leaderId: 'm2' });
    expect(t.groups.leave('g', 'm1')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('completes the join phase when the only missing member leaves', () => {
    const t = stableWithOne();
    const j2 = t.join();
    t.groups.leave('g', 'm1');
    expect(j2.result).toMatchObject({ errorCode: 0, generationId: 2, leaderId: 'm2' });
  });

  it('goes Empty when the last member leaves', () => {
    const t = stableWithOne();
    t.groups.leave('g', 'm1');
    expect(t.group()).toMatchObject({ state: 'Empty', generationId: 2 });
    expect(t.groups.heartbeat('g', 'm1', 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('removes a member whose connection closed while parked in JoinGroup, without answering it', () => {
    const t = stableWithOne();
    const j2 = t.join();
    t.groups.dropPending('g', j2.respond);
    expect(t.group()?.members.has('m2')).toBe(false);
    t.join({ memberId: 'm1' });
    expect(j2.calls).toBe(0);
    expect(t.group()?.generationId).toBe(2);
  });

  it('drops the responder of a member whose connection closed in SyncGroup, then expires it', () => {
    const t = stableWithOne();
    t.join();
    t.join({ memberId: 'm1' });
    const s2 = t.sync('m2', 2);
    t.groups.dropPending('g', s2.respond);
    t.sync('m1', 2, []);
    expect(s2.calls).toBe(0);
    t.clock.advance(1001);
    expect(t.group()?.members.size).toBe(0);
  });

  it('answers parked requests on stop and leaves no timers behind', () => {
    const t = stableWithOne();
    const j2 = t.join();
    t.groups.stop();
    expect(j2.result?.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(t.clock.pending).toBe(0);
  });
});

describe('GroupManager.checkCommit (spec §7.5)', () => {
  it.each([
    ['absent group, generation >= 0', () => setup(), 'x', 0, ErrorCode.ILLEGAL_GENERATION],
    ['absent group, simple commit', () => setup(), '', -1, ErrorCode.NONE],
    ['stable, current generation', stableWithOne, 'm1', 1, ErrorCode.NONE],
    ['stable, old generation', stableWithOne, 'm1', 0, ErrorCode.ILLEGAL_GENERATION],
    ['stable, unknown member', stableWithOne, 'zz', 1, ErrorCode.UNKNOWN_MEMBER_ID],
  ] as const)('%s', (_name, make, memberId, generation, expected) => {
    const t = make();
    expect(t.groups.checkCommit('g', memberId, generation)).toBe(expected);
  });

  it('creates an Empty group for a simple commit and accepts later ones', () => {
    const t = setup();
    t.groups.checkCommit('g', '', -1);
    expect(t.group()?.state).toBe('Empty');
    expect(t.groups.checkCommit('g', '', -1)).toBe(0);
    expect(t.groups.checkCommit('g', 'm1', 3)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});
