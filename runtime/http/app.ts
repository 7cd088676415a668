/**
 * The Hono binding: maps HTTP onto `invokeHttpFunction` and back. Knows nothing of any particular function.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HttpFunction, HttpMethod, InvocationMeta } from '../define.ts';
import { invokeHttpFunction, type RuntimeEnv } from '../invoke.ts';
import { mountMetrics } from '../metrics/http.ts';
import { redactText } from '../redact.ts';
import { httpTracing } from '../tracing/http.ts';
import { describePingFailure } from '../unavailable.ts';
import { mountApiDocs } from './api-docs.ts';
import { problemResponse, toProblem } from './errors.ts';
import type { OpenApiInfo } from './openapi.ts';
import { readRawInput } from './read-input.ts';
import { type HttpVariables, requestContext } from './request-context.ts';

/** Result of a readiness probe: `checks` names each dependency and its state (`ok` or what is wrong). */
export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

export interface HttpAppOptions {
  // biome-ignore lint/suspicious/noExplicitAny: a list of functions with different inputs and repositories
  functions: readonly HttpFunction<any, any>[];
  env: RuntimeEnv;
  /** Largest accepted request body in bytes (default 64 KiB). */
  bodyLimit?: number;
  /** Readiness probe behind `/readyz`; by default every store of `env` is pinged. */
  readiness?: () => Promise<Readiness>;
  /** `GET /openapi.json` and `GET /docs` for `functions` (default on, titled `orderflow`); `false`: none. */
  openapi?: OpenApiInfo | false;
}

/** Title and version of the OpenAPI document a host serves by default. */
export const DEFAULT_OPENAPI_INFO: OpenApiInfo = { title: 'orderflow', version: '0.1.0' };

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Builds the Hono app serving `functions`, plus `/healthz` and `/readyz`.
 * @example
 * const app = createHttpApp({ functions: [createOrder, getOrder], env });
 * serve({ fetch: app.fetch, port: config.port });
 */
export function createHttpApp(options: HttpAppOptions): Hono<{ Variables: HttpVariables }> {
  const { env } = options;
  const log = env.logger.child({ component: 'http' });
  const maxSize = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const readiness = options.readiness ?? (() => pingStores(env));
  const app = new Hono<{ Variables: HttpVariables }>();

  app.use('*', requestContext(log));
  if (env.metrics !== undefined) {
    const functionOf = new Map<string, string>(
      options.functions.flatMap((fn) => fn.paths.map((path) => [`${fn.method} ${path}`, fn.id] as const)),
    );
    mountMetrics(app, env.metrics, functionOf);
  }
  app.onError((error, c) =>
    problemResponse(c, toProblem(error, log.child({ requestId: c.get('requestId') }))),
  );
  app.notFound((c) =>
    problemResponse(c, {
      status: 404,
      code: 'not_found',
      message: `No route for ${c.req.method} ${c.req.path}`,
    }),
  );

  if (env.tracer !== undefined) app.use('*', httpTracing(env.tracer));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const openapi = options.openapi ?? DEFAULT_OPENAPI_INFO;
  // zod-openapi and the document's code are loaded at the first GET /openapi.json, not at start-up.
  if (openapi !== false)
    mountApiDocs(app, async () => (await import('./openapi.ts')).openApiDocument(options.functions, openapi));
  app.get('/readyz', async (c) => {
    const result = await readiness().catch((error: unknown) => ({
      ok: false,
      checks: { readiness: error instanceof Error ? error.message : String(error) },
    }));
    // A driver's message may quote a connection string: never its password.
    const checks = Object.fromEntries(
      Object.entries(result.checks).map(([name, state]) => [name, redactText(state)]),
    );
    return c.json({ status: result.ok ? 'ok' : 'unavailable', checks }, result.ok ? 200 : 503);
  });

  const tooLarge = (c: Context) =>
    problemResponse(c, {
      status: 413,
      code: 'payload_too_large',
      message: `Request body exceeds ${maxSize} bytes`,
    });
  const streamLimit = bodyLimit({ maxSize, onError: tooLarge });
  // Served by @hono/node-server, a body with a Content-Length is exactly that long (Node's HTTP parser reads no
  // more), so the limit is checked on the header and the body is later read by node-server's fast path.
  // Touching the body stream (as hono's bodyLimit does) would build a web ReadableStream per request instead.
  // Chunked bodies, and requests that did not come through Node's parser (`app.request`), are counted.
  const limit: MiddlewareHandler = (c, next) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const length = incoming?.headers['content-length'];
    if (
      length === undefined ||
      incoming?.headers['transfer-encoding'] !== undefined ||
      !/^\d+$/.test(length)
    ) {
      return streamLimit(c, next);
    }
    if (Number(length) > maxSize) return Promise.resolve(tooLarge(c));
    return next();
  };
  const methodsByPath = new Map<string, Set<HttpMethod>>();
  for (const fn of options.functions) {
    for (const path of fn.paths) {
      methodsByPath.set(path, (methodsByPath.get(path) ?? new Set()).add(fn.method));
      app.on(fn.method, path, limit, async (c) => {
        const raw = await readRawInput(c, fn.input.body !== undefined);
        const meta: InvocationMeta = {
          functionId: fn.id,
          correlationId: c.get('correlationId'),
          causationId: c.get('requestId'),
          attempt: 1,
          route: { method: fn.method, path },
        };
        const result = await invokeHttpFunction(fn, raw, env, meta);
        if (result.body === undefined || result.status === 204 || result.status === 304) {
          return c.body(null, result.status as 204, result.headers);
        }
        return c.json(result.body, result.status as 200, result.headers);
      });
    }
  }
  // After every method route: a known path with another method is a 405, not a 404.
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, ...(methods.has('GET') ? ['HEAD'] : [])].join(', ');
    app.all(path, (c) =>
      problemResponse(c, {
        status: 405,
        code: 'method_not_allowed',
        message: `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allow})`,
        headers: { allow },
      }),
    );
  }
  return app;
}

/** Default readiness: one round trip to each store. */
async function pingStores(env: RuntimeEnv): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(env.stores).map(async ([service, store]) => {
      try {
        await store.ping();
        return [service, 'ok'] as const;
      } catch (error) {
        return [service, describePingFailure(store, error)] as const;
      }
    }),
  );
  return { ok: entries.every(([, state]) => state === 'ok'), checks: Object.fromEntries(entries) };
}
