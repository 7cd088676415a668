import { describe, expect, it } from 'vitest';
import * as runtime from './index.ts';

describe('runtime public surface', () => {
  it('exports only the names function authors need', () => {
    expect(Object.keys(runtime).sort()).toEqual([
      'AppError',
      'ConflictError',
      'DEFAULT_RETRY_POLICY',
      'NonRetriableError',
      'NotFoundError',
      'PayloadTooLargeError',
      'RetryLaterError',
      'UnprocessableError',
      'ValidationError',
      'defineEvent',
      'defineEventFunction',
      'defineHttpFunction',
      'isRetriable',
      'storeToken',
    ]);
  });
});
