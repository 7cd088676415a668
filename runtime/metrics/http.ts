/**
 * The HTTP metrics middleware (Hono) and `GET /metrics`, shared by the functions' app and the gateway.
 * @module
 */
import type { Env, Hono } from 'hono';
import { routePath } from 'hono/route';
import type { Metrics } from './metrics.ts';

/**
 * Measures every request of `app` (duration, in flight, rejections) by route template and serves `/metrics`.
 * `functionOf` names the function behind `METHOD /route/template` (empty label when none).
 * @example mountMetrics(app, metrics, new Map([['POST /orders', 'create-order']]));
 */
export function mountMetrics<E extends Env>(
  app: Hono<E>,
  metrics: Metrics,
  functionOf: ReadonlyMap<string, string>,
): void {
  app.use('*', async (c, next) => {
    const ended = metrics.httpStarted(c.req.method);
    try {
      await next();
    } finally {
      // The template of the last route that matched ('*' alone: no route, then the label stays empty).
      const route = routePath(c, -1);
      const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
      ended({
        function: functionOf.get(`${method} ${route}`) ?? '',
        route: route === '*' ? '' : route,
        status: c.res.status,
      });
    }
  });
  app.get('/metrics', async (c) =>
    c.body(await metrics.text(), 200, { 'content-type': metrics.contentType }),
  );
}
