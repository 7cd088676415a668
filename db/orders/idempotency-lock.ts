/**
 * The lock a request with an `Idempotency-Key` holds while it runs, named the same way on every dialect:
 * a hash of scope and key, so a name has a fixed length whatever the key (SQL Server's `sp_getapplock`
 * truncates resource names at 255 characters; PostgreSQL's advisory locks take a 64-bit number).
 * @module
 */
import { createHash } from 'node:crypto';
import type { IdempotencyScope } from './repo.ts';

/** SHA-256 of client, route and key (newline-separated: a key is visible ASCII, a route has no newline). */
export function idempotencyLockHash(scope: IdempotencyScope, key: string): Buffer {
  return createHash('sha256')
    .update(`orders.idempotency_keys\n${scope.clientId}\n${scope.route}\n${key}`)
    .digest();
}

/** `sp_getapplock` resource: `orders.idempotency_keys:<64 hex digits>`. */
export function idempotencyLockResource(scope: IdempotencyScope, key: string): string {
  return `orders.idempotency_keys:${idempotencyLockHash(scope, key).toString('hex')}`;
}

/** `pg_try_advisory_xact_lock` key: the hash's first 64 bits as a signed `bigint`, in decimal. */
export function idempotencyAdvisoryLockKey(scope: IdempotencyScope, key: string): string {
  return idempotencyLockHash(scope, key).readBigInt64BE(0).toString();
}
