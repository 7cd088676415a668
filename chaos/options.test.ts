import { describe, expect, it } from 'vitest';
import { parseChaosArgs, UsageError } from './options.ts';

const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };

describe('parseChaosArgs', () => {
  it('has defaults for everything but the database', () => {
    expect(parseChaosArgs(['--seed', '7'], env)).toMatchObject({
      scenario: 'kills',
      durationS: 60,
      seed: 7,
      rate: 10,
      databaseUrl: env.DATABASE_URL,
      outageAtS: 20,
      outageS: 10,
      outageTarget: 'all',
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      replicas: 2,
    });
  });

  it('says what to set when there is no database, and refuses other URLs', () => {
    expect(() => parseChaosArgs([], {})).toThrow(/set DATABASE_URL \(or pass --database-url\)/);
    expect(() => parseChaosArgs(['--database-url', 'mssql://x'], {})).toThrow(UsageError);
  });

  it('takes --session-timeout default to mean kafkajs’ own timings', () => {
    expect(parseChaosArgs(['--session-timeout', 'default'], env)).toMatchObject({
      sessionTimeoutMs: undefined,
      heartbeatIntervalMs: undefined,
    });
  });

  it.each([
    [['--scenario', 'flood'], /--scenario must be one of kills, db-outage, provider-outage/],
    [['--rate', '0'], /--rate must be a number ≥ 0.1/],
    [['--seed', '1.5'], /--seed must be an integer/],
    [['--outage-target', 'gateway'], /--outage-target must be one of all, orders, payments/],
    [['--bogus'], /Unknown option/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseChaosArgs(argv, env)).toThrow(message);
  });
});
