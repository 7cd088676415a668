import { describe, expect, it } from 'vitest';
import * as runtime from './index.ts';

describe('runtime public surface', () => {
  it('exports only the names function authors need', () => {
    expect(Object.keys(runtime).sort()).toEqual([
      'AppError',
      'ConflictError',
      'DEFAULT_HANDLER_TIMEOUT_MS',
      'DEFAULT_RETRY_POLICY',
      'DependencyUnavailableError',
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
