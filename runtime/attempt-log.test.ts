import { describe, expect, it } from 'vitest';
import {
  attemptsRecords,
  ConsumerAttemptsRecorded,
  type LoggedAttempt,
  MAX_ATTEMPTS_PER_RECORD,
} from './attempt-log.ts';

const attempt = (i: number): LoggedAttempt => ({
  eventId: `e-${i}`,
  eventType: 'Pinged',
  key: `o-${i % 7}`,
  topic: 'pings',
  partition: 0,
  offset: String(i),
  attempt: 1,
  outcome: 'handled',
  startedAt: '2030-01-01T00:00:00.000Z',
  durationMs: 0.5,
  error: null,
});

describe('the attempt log', () => {
  it('records a batch in as few rows as the per-record maximum allows, in order, keyed by the first order', () => {
    const attempts = Array.from({ length: 2 * MAX_ATTEMPTS_PER_RECORD + 50 }, (_, i) => attempt(i));
    const records = attemptsRecords({ id: 'fn', groupId: 'group' }, attempts);
    const data = records.map((r) => JSON.parse(r.value).data);
    expect(data.map((d) => d.attempts.length)).toEqual([
      MAX_ATTEMPTS_PER_RECORD,
      MAX_ATTEMPTS_PER_RECORD,
      50,
    ]);
    expect(data.flatMap((d) => d.attempts.map((a: LoggedAttempt) => a.offset))).toEqual(
      attempts.map((a) => a.offset),
    );
    expect(records.map((r) => r.key)).toEqual(['o-0', `o-${MAX_ATTEMPTS_PER_RECORD % 7}`, 'o-4']);
    expect(records.every((r) => r.topic === ConsumerAttemptsRecorded.topic)).toBe(true);
    expect(JSON.parse(records[0]!.value)).toMatchObject({ type: 'ConsumerAttemptRecorded', version: 2 });
    expect(attemptsRecords({ id: 'fn', groupId: 'group' }, [])).toEqual([]);
  });
});
