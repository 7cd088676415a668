/**
 * Ids: those that arrive from outside (HTTP headers, Kafka headers) and travel on in logs, outbox rows and
 * headers are honoured only when they are 1–128 safe characters, so a NUL, a newline or a megabyte never reaches a
 * log line or a database column; and ids derived deterministically from other values.
 * @module
 */
import { createHash } from 'node:crypto';

const SAFE_ID = /^[A-Za-z0-9._:@=+/-]{1,128}$/;

/** An incoming id is honoured when it is 1–128 safe characters; otherwise ignored (`undefined`). */
export function acceptId(value: string | undefined): string | undefined {
  return value !== undefined && SAFE_ID.test(value) ? value : undefined;
}

/** A deterministic UUID (version 5 layout) from `text`. */
export function derivedUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
