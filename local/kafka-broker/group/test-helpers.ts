/**
 * Fixtures for the group coordinator's unit tests: a manager on a manual clock and
 * helpers that capture parked answers.
 * @module
 */
import type { JoinResult, SyncResult } from './group.ts';
import { GroupManager, type JoinRequest } from './group-manager.ts';
import { ManualScheduler } from './scheduler.ts';

/** A JoinGroup request with sensible test defaults. */
export const joinRequest = (overrides: Partial<JoinRequest> = {}): JoinRequest => ({
  groupId: 'g',
  sessionTimeoutMs: 1000,
  rebalanceTimeoutMs: 5000,
  memberId: '',
  protocolType: 'consumer',
  protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from('meta') }],
  clientId: 'client',
  clientHost: '/127.0.0.1',
  ...overrides,
});

/** A captured answer: `undefined` while the request is parked. */
export interface Captured<T> {
  result: T | undefined;
  respond: (r: T) => void;
  calls: number;
}

export const capture = <T>(): Captured<T> => {
  const c: Captured<T> = {
    result: undefined,
    calls: 0,
    respond: (r) => {
      c.result = r;
      c.calls++;
    },
  };
  return c;
};

/** A manager with deterministic member ids (`m1`, `m2`, ...) on a manual clock. */
export const setup = (opts: { initialRebalanceDelayMs?: number } = {}) => {
  const clock = new ManualScheduler();
  let n = 0;
  const groups = new GroupManager({ scheduler: clock, newMemberId: () => `m${++n}`, ...opts });
  const join = (overrides: Partial<JoinRequest> = {}) => {
    const c = capture<JoinResult>();
    groups.join(joinRequest(overrides), c.respond);
    return c;
  };
  const sync = (
    memberId: string,
    generationId: number,
    assignments: { memberId: string; assignment: Buffer }[] = [],
  ) => {
    const c = capture<SyncResult>();
    groups.sync({ groupId: 'g', generationId, memberId, assignments }, c.respond);
    return c;
  };
  const group = () => groups.groups.get('g');
  return { clock, groups, join, sync, group };
};
