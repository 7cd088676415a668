import { logLevel } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../define.ts';
import { RetryLaterError } from '../errors.ts';
import { backoffMs } from '../outbox/relay.ts';
import { kafkajsLevel, pinoLogCreator } from './client.ts';
import { retryDelayMs, waitWithHeartbeat } from './retry.ts';

const policy = { attempts: 5, initialBackoffMs: 100, maxBackoffMs: 1_000 };

describe('retryDelayMs', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [40, 1_000],
  ])('after attempt %i the ceiling is %i ms, jittered down to half', (attempt, ceiling) => {
    expect(retryDelayMs(policy, attempt, new Error('x'), () => 0.999_999)).toBe(ceiling);
    expect(retryDelayMs(policy, attempt, new Error('x'), () => 0)).toBe(ceiling / 2);
  });

  it('never retries earlier than a RetryLaterError asks', () => {
    expect(retryDelayMs(policy, 1, new RetryLaterError('busy', { delayMs: 5_000 }), () => 0)).toBe(5_000);
    expect(retryDelayMs(policy, 4, new RetryLaterError('busy', { delayMs: 10 }), () => 0)).toBe(400);
  });

  it('uses the default policy unchanged', () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, undefined, () => 0)).toBe(50);
  });
});

describe('waitWithHeartbeat', () => {
  it('heartbeats while waiting and gives up as soon as it is told to', async () => {
    let beats = 0;
    let abandon = false;
    setTimeout(() => {
      abandon = true;
    }, 120);
    const t0 = Date.now();
    const finished = await waitWithHeartbeat(10_000, {
      heartbeat: async () => {
        beats++;
      },
      shouldAbandon: () => abandon,
    });
    expect(finished).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(beats).toBeGreaterThan(1);
  });

  it('rethrows a heartbeat error (the group is rebalancing)', async () => {
    const rebalancing = new Error('The group is rebalancing');
    await expect(
      waitWithHeartbeat(1_000, { heartbeat: () => Promise.reject(rebalancing), shouldAbandon: () => false }),
    ).rejects.toBe(rebalancing);
  });
});

describe('relay backoffMs', () => {
  it('doubles per failure up to the cap, jittered to [0.5, 1)', () => {
    expect([1, 2, 3, 10].map((n) => backoffMs(n, 100, 1_000, () => 0.999_999))).toEqual([
      100, 200, 400, 1_000,
    ]);
    expect(backoffMs(3, 100, 1_000, () => 0)).toBe(200);
  });
});

describe('kafkajs logs', () => {
  it('maps pino levels to kafkajs levels', () => {
    expect(['silent', 'error', 'warn', 'info', 'debug', 'trace'].map(kafkajsLevel)).toEqual([
      logLevel.NOTHING,
      logLevel.ERROR,
      logLevel.WARN,
      logLevel.INFO,
      logLevel.DEBUG,
      logLevel.DEBUG,
    ]);
  });

  it('writes kafkajs entries to pino at the matching level with their fields', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const log = pinoLogCreator(logger)(logLevel.DEBUG);
    const entry = (level: logLevel, message: string) => ({
      namespace: 'Consumer',
      level,
      label: 'x',
      log: { timestamp: 'now', logger: 'kafkajs', message, groupId: 'payments' },
    });
    log(entry(logLevel.ERROR, 'crashed'));
    log(entry(logLevel.WARN, 'slow'));
    log(entry(logLevel.INFO, 'joined'));
    log(entry(logLevel.DEBUG, 'fetch'));
    expect(lines.map((l) => [l.level, l.msg, l.namespace, l.groupId, l.component])).toEqual([
      [50, 'crashed', 'Consumer', 'payments', 'kafkajs'],
      [40, 'slow', 'Consumer', 'payments', 'kafkajs'],
      [30, 'joined', 'Consumer', 'payments', 'kafkajs'],
      [20, 'fetch', 'Consumer', 'payments', 'kafkajs'],
    ]);
    expect(lines[0]).not.toHaveProperty('timestamp');
  });
});
