/**
 * The HTTP server span of a request (OpenTelemetry HTTP semantic conventions): continues an incoming W3C
 * `traceparent`, is active while the handler runs (its transaction and the outbox rows it writes are
 * children), and is named `METHOD /route/template` once the route is known.
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { extractContext, inSpan, SpanKind, type Tracer } from './tracing.ts';

export function httpTracing(tracer: Tracer): MiddlewareHandler {
  return (c, next) =>
    inSpan(
      tracer,
      c.req.method,
      {
        kind: SpanKind.SERVER,
        parent: extractContext(c.req.header()),
        attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path, 'url.scheme': 'http' },
      },
      async (span) => {
        await next();
        const route = routePath(c, -1);
        if (route !== '*' && route !== '') {
          span?.setAttribute('http.route', route);
          span?.updateName(`${c.req.method} ${route}`);
        }
        span?.setAttribute('http.response.status_code', c.res.status);
        const requestId = c.get('requestId') as string | undefined;
        if (requestId !== undefined) span?.setAttribute('orderflow.request_id', requestId);
        if (c.res.status >= 500) span?.setStatus({ code: 2 });
      },
    );
}
