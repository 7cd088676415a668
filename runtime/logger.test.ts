import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.ts';
import { createLogger, createSilentLogger, resolveLogFormat } from './logger.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with a level label, ISO time and name', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', name: 'orderflow', destination: out.stream });
    logger.debug('hidden');
    logger.info({ port: 5000 }, 'listening');
    const [line] = out.lines();
    expect(out.lines()).toHaveLength(1);
    expect(line).toMatchObject({ level: 'info', name: 'orderflow', port: 5000, msg: 'listening' });
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
  });

  it('logs errors with their stack and redacts credentials', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream });
    logger.error({ err: new Error('boom'), headers: { authorization: 'Bearer secret' } }, 'failed');
    const [line] = out.lines() as [{ err: { stack: string }; headers: { authorization: string } }];
    expect(line.err.stack).toContain('boom');
    expect(line.headers.authorization).toBe('[redacted]');
  });

  it('has a silent variant for tests', () => {
    expect(createSilentLogger().isLevelEnabled('fatal')).toBe(false);
  });
});

describe('resolveLogFormat', () => {
  it.each([
    [undefined, true, 'pretty'],
    [undefined, false, 'json'],
    ['', true, 'pretty'],
    ['json', true, 'json'],
    ['JSON', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('LOG_FORMAT=%s with a terminal: %s → %s', (value, isTTY, expected) => {
    expect(resolveLogFormat(value, isTTY)).toBe(expected);
  });

  it('names the variable and the allowed values when the value is neither', () => {
    expect(() => resolveLogFormat('yaml', true)).toThrow(ConfigError);
    expect(() => resolveLogFormat('yaml', true)).toThrow(
      'LOG_FORMAT: must be one of json, pretty (got "yaml")',
    );
  });
});
