/**
 * The gateway: the one public HTTP entry when every function runs in its own container. Its routes are
 * derived from the manifest's HTTP functions (method + every path, aliases included); each request is
 * forwarded to the container of the function that declares the route. Nothing else is reachable.
 *
 * - ids: `x-request-id` / `x-correlation-id` are taken (or generated) by the runtime's `requestContext`,
 *   forwarded upstream and echoed back, so one id follows a request through gateway, function and events.
 * - headers: Hono's proxy helper (`hono/proxy`) drops the hop-by-hop ones and those the `Connection` header
 *   names, both ways; `host` and `expect` are not forwarded either; `x-forwarded-for/-host/-proto` are
 *   added. The response comes back as the function wrote it, minus its hop-by-hop headers.
 * - `Expect: 100-continue`: Node's server answers `100 Continue` and the body is forwarded without the
 *   header (undici's fetch refuses it); any other expectation is a 417 `expectation_failed`.
 * - failures in the function's own error shape: upstream unreachable → 502 `upstream_unavailable`,
 *   no response within the timeout → 504 `upstream_timeout` (the timeout bounds the whole exchange: a body
 *   still streaming when it fires is cut off), undeclared route → 404, known path with another method → 405
 *   + `Allow`. Everything the function answers itself (its 4xx/5xx included) passes through unchanged.
 * - `/healthz`: the gateway itself. `/readyz`: every upstream's `/readyz` answers 200.
 * @module
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { proxy } from 'hono/proxy';
import type { Logger } from 'pino';
import type { AnyFunction, HttpMethod } from '../runtime/define.ts';
import { mountApiDocs } from '../runtime/http/api-docs.ts';
import { problemResponse, toProblem } from '../runtime/http/errors.ts';
import {
  CORRELATION_ID_HEADER,
  type HttpVariables,
  REQUEST_ID_HEADER,
  requestContext,
} from '../runtime/http/request-context.ts';
import { listen } from '../runtime/http/server.ts';
import { mountMetrics } from '../runtime/metrics/http.ts';
import type { Metrics } from '../runtime/metrics/metrics.ts';
import { OPS_ROUTES } from '../runtime/ops/http.ts';
import { mountConsole } from './console/index.ts';

/** One route the gateway serves, and the function (hence upstream) behind it. */
export interface GatewayRoute {
  functionId: string;
  method: HttpMethod;
  path: string;
}

/** Every route of the HTTP functions in `functions`, aliases included. */
export function gatewayRoutes(functions: readonly AnyFunction[]): GatewayRoute[] {
  return functions.flatMap((fn) =>
    fn.kind === 'http' ? fn.paths.map((path) => ({ functionId: fn.id, method: fn.method, path })) : [],
  );
}

/** The `/ops` routes, forwarded to the upstream named `ops` (only when `GATEWAY_OPS_UPSTREAM` is set). */
export function opsRoutes(): GatewayRoute[] {
  return OPS_ROUTES.map((route) => ({ functionId: 'ops', method: route.method, path: route.path }));
}

export interface GatewayOptions {
  routes: readonly GatewayRoute[];
  /** Base URL per function id, e.g. `{ 'create-order': 'http://create-order:5000' }`. */
  upstreams: Readonly<Record<string, string>>;
  /** Longest wait for an upstream's response before answering 504. */
  timeoutMs: number;
  /** Longest wait for each upstream's `/readyz` (default 2 s). */
  readyTimeoutMs?: number;
  logger: Logger;
  /** For tests; default the global `fetch`. */
  fetch?: typeof fetch;
  /** The OpenAPI document of the routes, served at `/openapi.json` with Swagger UI at `/docs`. */
  openapi?: () => object | Promise<object>;
  /** Prometheus metrics of the gateway's own requests (by the function each route forwards to), at `/metrics`. */
  metrics?: Metrics;
}

/**
 * Request headers that Hono's proxy helper (which drops the hop-by-hop ones and those `Connection` names)
 * leaves in place but the gateway does not forward:
 * - `host`: the upstream gets its own; the client's goes in `x-forwarded-host`;
 * - `expect`: an expectation is between the client and the gateway. Node's server has already answered
 *   `100-continue` by the time the request arrives (an unknown one gets a 417 below), and undici's fetch
 *   refuses to send the header at all (every such request was a 502);
 * - `proxy-connection`: obsolete, named by RFC 9110 §7.6.1 among the fields an intermediary removes, absent
 *   from Hono's list.
 */
const NOT_FORWARDED = ['host', 'expect', 'proxy-connection'];

/**
 * Builds the gateway app.
 * @example
 * const app = createGateway({ routes: gatewayRoutes(manifest), upstreams, timeoutMs: 10_000, logger });
 */
export function createGateway(options: GatewayOptions): Hono<{ Variables: HttpVariables }> {
  const log = options.logger.child({ component: 'gateway' });
  const doFetch = options.fetch ?? fetch;
  for (const route of options.routes) {
    if (options.upstreams[route.functionId] === undefined) {
      throw new Error(`no upstream for function "${route.functionId}" (${route.method} ${route.path})`);
    }
  }
  const app = new Hono<{ Variables: HttpVariables }>();
  app.use('*', requestContext(log));
  if (options.metrics !== undefined) {
    const functionOf = new Map(options.routes.map((r) => [`${r.method} ${r.path}`, r.functionId] as const));
    mountMetrics(app, options.metrics, functionOf);
  }
  app.use('*', async (c, next) => {
    const expectation = c.req.header('expect');
    if (expectation === undefined || expectation.trim().toLowerCase() === '100-continue') return next();
    return problemResponse(c, {
      status: 417,
      code: 'expectation_failed',
      message: `Expectation ${JSON.stringify(expectation)} is not supported (only 100-continue is)`,
    });
  });
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

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  if (options.openapi !== undefined) mountApiDocs(app, options.openapi);
  // The console's page is the gateway's own; its calls come back through the routes below.
  mountConsole(app);
  app.get('/readyz', async (c) => {
    const ids = [...new Set(options.routes.map((r) => r.functionId))];
    const checks: Record<string, string> = {};
    await Promise.all(
      ids.map(async (id) => {
        checks[`upstream:${id}`] = await probe(doFetch, `${base(options.upstreams[id]!)}/readyz`, options);
      }),
    );
    const ok = Object.values(checks).every((state) => state === 'ok');
    return c.json({ status: ok ? 'ok' : 'unavailable', checks }, ok ? 200 : 503);
  });

  const methodsByPath = new Map<string, Set<string>>();
  for (const route of options.routes) {
    methodsByPath.set(route.path, (methodsByPath.get(route.path) ?? new Set()).add(route.method));
    const upstream = base(options.upstreams[route.functionId]!);
    app.on(route.method, route.path, async (c) => {
      const incoming = new URL(c.req.url);
      const target = `${upstream}${incoming.pathname}${incoming.search}`;
      const timeout = AbortSignal.timeout(options.timeoutMs);
      let response: Response;
      try {
        response = await proxy(target, {
          raw: c.req.raw,
          // RFC 9110 §7.6.1: also drop the headers the client's `Connection` names (a malformed one is a
          // 400). The ids and `x-forwarded-*` are set after that, so a client cannot strip them this way.
          strictConnectionProcessing: true,
          signal: AbortSignal.any([c.req.raw.signal, timeout]),
          customFetch: (request) => doFetch(withGatewayHeaders(request, c, incoming)),
        });
      } catch (error) {
        if (error instanceof HTTPException) throw error;
        const fields = { functionId: route.functionId, target, requestId: c.get('requestId') };
        if (timeout.aborted) {
          log.warn({ ...fields, timeoutMs: options.timeoutMs }, 'upstream timed out');
          return problemResponse(c, {
            status: 504,
            code: 'upstream_timeout',
            message: `${route.functionId} did not answer within ${options.timeoutMs} ms`,
          });
        }
        log.warn({ ...fields, err: error }, 'upstream unavailable');
        return problemResponse(c, {
          status: 502,
          code: 'upstream_unavailable',
          message: `${route.functionId} is unavailable`,
        });
      }
      response.headers.set(REQUEST_ID_HEADER, c.get('requestId'));
      response.headers.set(CORRELATION_ID_HEADER, c.get('correlationId'));
      return response;
    });
  }
  // After every method route: a known path with another method is a 405, as in the functions themselves.
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

/**
 * Completes the request Hono's proxy helper built from the client's (hop-by-hop headers gone): drops what
 * the gateway does not forward, adds the ids and `x-forwarded-*` (from the client's original headers).
 */
function withGatewayHeaders(request: Request, c: Context<{ Variables: HttpVariables }>, url: URL): Request {
  const { headers } = request;
  const original = c.req.raw.headers;
  for (const name of NOT_FORWARDED) headers.delete(name);
  headers.set(REQUEST_ID_HEADER, c.get('requestId'));
  headers.set(CORRELATION_ID_HEADER, c.get('correlationId'));
  const forwardedFor = original.get('x-forwarded-for');
  const client = clientAddress(c);
  if (client !== undefined)
    headers.set('x-forwarded-for', forwardedFor ? `${forwardedFor}, ${client}` : client);
  headers.set('x-forwarded-host', original.get('host') ?? url.host);
  headers.set('x-forwarded-proto', url.protocol.replace(/:$/, ''));
  return request;
}

/** The peer address; undefined outside @hono/node-server (e.g. `app.request()` in tests). */
function clientAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

async function probe(doFetch: typeof fetch, url: string, options: GatewayOptions): Promise<string> {
  try {
    const res = await doFetch(url, { signal: AbortSignal.timeout(options.readyTimeoutMs ?? 2_000) });
    await res.body?.cancel();
    return res.status === 200 ? 'ok' : `HTTP ${res.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause ?? (error instanceof Error ? error.message : String(error));
  }
}

function base(url: string): string {
  return url.replace(/\/+$/, '');
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, waits up to `shutdownTimeoutMs` for requests in flight, then closes. */
  stop(): Promise<void>;
}

/**
 * Serves the gateway on `port` (0 = any free port).
 * @example
 * const gateway = await startGateway({ routes, upstreams, timeoutMs: 10_000, logger, port: 5000 });
 */
export async function startGateway(
  options: GatewayOptions & { port: number; host?: string; shutdownTimeoutMs?: number },
): Promise<RunningGateway> {
  const app = createGateway(options);
  const hostname = options.host ?? '0.0.0.0';
  // listen() hands expectations other than 100-continue to the app, which answers them in the error shape.
  const { server, port } = await listen({ fetch: app.fetch, port: options.port, hostname });
  const url = `http://${hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname}:${port}`;
  options.logger.info(
    { url, routes: options.routes.map((r) => `${r.method} ${r.path}`) },
    'gateway listening',
  );
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        const http = server as unknown as {
          close(cb: () => void): void;
          closeIdleConnections?(): void;
          closeAllConnections?(): void;
        };
        const timer = setTimeout(() => http.closeAllConnections?.(), options.shutdownTimeoutMs ?? 10_000);
        timer.unref();
        http.close(() => {
          clearTimeout(timer);
          resolve();
        });
        http.closeIdleConnections?.();
      });
      return stopping;
    },
  };
}
