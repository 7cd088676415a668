/**
 * Ids that arrive from outside (HTTP headers, Kafka headers) and travel on in logs, outbox rows and headers:
 * honoured only when they are 1–128 safe characters, so a NUL, a newline or a megabyte never reaches a log line or
 * a database column.
 * @module
 */

const SAFE_ID = /^[A-Za-z0-9._:@=+/-]{1,128}$/;

/** An incoming id is honoured when it is 1–128 safe characters; otherwise ignored (`undefined`). */
export function acceptId(value: string | undefined): string | undefined {
  return value !== undefined && SAFE_ID.test(value) ? value : undefined;
}
