/**
 * The one error shape of every HTTP response:
 * `{"status":"error","code":"validation_failed","message":"…","errors":[{"path":"amount","message":"…"}],"requestId":"…"}`
 * (`errors` only when there are field issues). Unknown errors become a logged 500 that leaks nothing.
 * @module
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { AppError, DependencyUnavailableError, type FieldIssue, RetryLaterError } from '../errors.ts';
import type { HttpVariables } from './request-context.ts';

export interface ErrorBody {
  status: 'error';
  code: string;
  message: string;
  errors?: FieldIssue[];
  requestId: string;
}

/** An error answer the binding produces itself (404, 405, 413, …), outside any AppError. */
export interface HttpProblem {
  status: ContentfulStatusCode;
  code: string;
  message: string;
  errors?: FieldIssue[] | undefined;
  headers?: Record<string, string>;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  503: 'unavailable',
};

/** Writes a problem as the JSON error body, with the request id. */
export function problemResponse(c: Context<{ Variables: HttpVariables }>, problem: HttpProblem): Response {
  const body: ErrorBody = {
    status: 'error',
    code: problem.code,
    message: problem.message,
    ...(problem.errors !== undefined && problem.errors.length > 0 ? { errors: problem.errors } : {}),
    requestId: c.get('requestId') ?? 'unknown',
  };
  return c.json(body, problem.status, problem.headers);
}

/** Maps any thrown value to a problem: AppErrors by their status and code, hono's HTTPException by status, else 500. */
export function toProblem(error: unknown, log: Logger): HttpProblem {
  if (error instanceof AppError) {
    if (error.status >= 500) log.warn({ err: error }, error.message);
    // A 503 always says when to come back (RFC 9110 §10.2.3, seconds): the dependency's own hint, else 1 s.
    const retryAfterMs =
      error instanceof DependencyUnavailableError
        ? error.retryAfterMs
        : error instanceof RetryLaterError
          ? (error.delayMs ?? 1_000)
          : undefined;
    const headers =
      retryAfterMs === undefined
        ? undefined
        : { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
    return {
      status: error.status as ContentfulStatusCode,
      code: error.code,
      message: error.message,
      errors: error.details,
      ...(headers === undefined ? {} : { headers }),
    };
  }
  if (error instanceof HTTPException && error.status < 500) {
    return {
      status: error.status,
      code: CODE_BY_STATUS[error.status] ?? 'error',
      message: error.message || 'Request failed',
    };
  }
  // The client went away mid-request (whatever part was reading its body): its doing, not a server error.
  if (isClientAbort(error)) {
    log.info({ err: error }, 'client closed the connection mid-request');
    return {
      status: 400,
      code: 'bad_request',
      message: 'Request incomplete: the connection closed before it was sent',
    };
  }
  log.error({ err: error }, 'unhandled error');
  return { status: 500, code: 'internal', message: 'Internal error' };
}

/** Node's "aborted" / ECONNRESET for a request whose client closed the connection, at any depth of `cause`. */
export function isClientAbort(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (
      e.message === 'aborted' ||
      code === 'ECONNRESET' ||
      code === 'ECONNABORTED' ||
      e.name === 'AbortError'
    )
      return true;
  }
  return false;
}
