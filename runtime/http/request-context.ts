/**
 * Request and correlation ids, and the access log: the first middleware of every request.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { acceptId } from '../ids.ts';

/** What the binding keeps on each Hono context. */
export interface HttpVariables {
  requestId: string;
  correlationId: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';
export const CORRELATION_ID_HEADER = 'x-correlation-id';

export { acceptId } from '../ids.ts';

/**
 * Takes `x-request-id` (or generates a UUID) and `x-correlation-id` (or the request id), echoes both
 * on the response, and writes one access log line (method, path, status, ms, requestId) per request.
 */
export function requestContext(logger: Logger): MiddlewareHandler<{ Variables: HttpVariables }> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = acceptId(c.req.header(REQUEST_ID_HEADER)) ?? randomUUID();
    const correlationId = acceptId(c.req.header(CORRELATION_ID_HEADER)) ?? requestId;
    c.set('requestId', requestId);
    c.set('correlationId', correlationId);
    c.header(REQUEST_ID_HEADER, requestId);
    c.header(CORRELATION_ID_HEADER, correlationId);
    try {
      await next();
    } finally {
      logger.info(
        {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          requestId,
          correlationId,
        },
        'request',
      );
    }
  };
}
