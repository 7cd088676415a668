/**
 * Turns zod issues into the runtime's `FieldIssue`s: one `{ path, message }` per problem,
 * the path dotted (`items.0.sku`). Shared by HTTP validation, event decoding and config.
 * @module
 */
import type { z } from 'zod';
import type { FieldIssue } from './errors.ts';

/** Joins a zod issue path with dots; `root` names the value itself when the path is empty. */
export function issuePath(path: readonly PropertyKey[], prefix?: string): string {
  const parts = path.map((segment) => String(segment));
  if (prefix !== undefined) return [prefix, ...parts].join('.');
  return parts.join('.');
}

/** One `FieldIssue` per zod issue. With a `prefix`, paths become `prefix.field` (and `prefix` for the root). */
export function toFieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((issue) => ({ path: issuePath(issue.path, prefix), message: issue.message }));
}

/** `orderId: must be …; amount: Required` — for log lines and dead-letter reasons. */
export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues
    .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
    .join('; ');
}
