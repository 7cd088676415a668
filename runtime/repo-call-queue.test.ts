import { describe, expect, it } from 'vitest';
import { GroupAbortedError, RepoCallQueue } from './repo-call-queue.ts';
import { BATCHED } from './store.ts';

/** A repository that records what ran, and whether two of its calls were ever in flight at once. */
function recordingRepo() {
  const ran: string[] = [];
  let inFlight = 0;
  let overlapped = false;
  const step = async <T>(label: string, value: T): Promise<T> => {
    inFlight += 1;
    if (inFlight > 1) overlapped = true;
    ran.push(label);
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight -= 1;
    return value;
  };
  const repo = {
    find: (id: string) => step(`find ${id}`, `found ${id}`),
    insert: (id: string) => step(`insert ${id}`, `inserted ${id}`),
    [BATCHED]: {
      insert: (calls: readonly (readonly unknown[])[]) =>
        step(
          `insert* ${calls.map(([id]) => id).join(',')}`,
          calls.map(([id]) => `inserted ${id} in one`),
        ),
    },
  };
  return { repo, ran, overlapped: () => overlapped };
}

describe('RepoCallQueue', () => {
  it('runs the waiting calls of a batched method as one, in call order, and every call one at a time', async () => {
    const { repo, ran, overlapped } = recordingRepo();
    const queue = new RepoCallQueue(repo);
    const shared = queue.repo as typeof repo;
    const member = async (id: string) => {
      const inserted = await shared.insert(id);
      return [inserted, await shared.find(id)];
    };
    const results = Promise.all(['a', 'b', 'c'].map(member));
    queue.start();

    expect(await results).toEqual([
      ['inserted a in one', 'found a'],
      ['inserted b in one', 'found b'],
      ['inserted c in one', 'found c'],
    ]);
    expect(ran).toEqual(['insert* a,b,c', 'find a', 'find b', 'find c']);
    expect(overlapped()).toBe(false);
  });

  it('runs nothing before start()', async () => {
    const { repo, ran } = recordingRepo();
    const queue = new RepoCallQueue(repo);
    const call = (queue.repo as typeof repo).find('x');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ran).toEqual([]);
    queue.start();
    expect(await call).toBe('found x');
  });

  it('fails waiting and later calls once aborted', async () => {
    const { repo, ran } = recordingRepo();
    const queue = new RepoCallQueue(repo);
    const shared = queue.repo as typeof repo;
    const waiting = shared.find('x');
    queue.abort('member 0 failed');
    await expect(waiting).rejects.toBeInstanceOf(GroupAbortedError);
    await expect(shared.find('y')).rejects.toBeInstanceOf(GroupAbortedError);
    expect(ran).toEqual([]);
  });

  it('marks the failure of a batched call made for several callers as shared', async () => {
    const failing = {
      [BATCHED]: {
        insert: async () => {
          throw new Error('constraint');
        },
      },
      insert: async (_id: string) => 'never',
    };
    const queue = new RepoCallQueue(failing);
    const shared = queue.repo as typeof failing;
    const calls = [shared.insert('a'), shared.insert('b')].map((p) => p.catch((e: Error) => e));
    queue.start();
    const [a, b] = await Promise.all(calls);
    expect(a).toBe(b);
    expect(queue.sharedFailure).toBe(a);
  });
});
