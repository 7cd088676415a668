import type { HttpFunction } from '../define.ts';
import { createHttpApp } from '../http/app.ts';
import type { RuntimeEnv } from '../invoke.ts';

export interface HttpTestRequest {
  /** JSON-encoded unless it is a string or bytes, which are sent as they are (e.g. to test malformed JSON). */
  body?: unknown;
  /** Fills the `:name` segments of the function's (first) path. */
  params?: Record<string, string>;
  query?: Record<string, string | readonly string[]>;
  headers?: Record<string, string>;
  /** Defaults to the function's method. */
  method?: string;
  /** Defaults to the function's first path with `params` filled in. */
  path?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
export interface HttpTestResponse<TBody = any> {
  status: number;
  /** Parsed JSON; `null` for an empty body; the text when it is not JSON. */
  body: TBody;
  /** Lower-case names. */
  headers: Record<string, string>;
}

export interface InvokeHttpOptions {
  /** Body limit of the app, as `createHttpApp` takes it. */
  bodyLimit?: number;
}

/**
 * Sends one request through the real HTTP binding (validation, error mapping, status codes), with no server.
 * @example
 * const res = await invokeHttp(createOrder, { body: { amount: '50.00', currency: 'USD' } }, env);
 * expect(res.status).toBe(201);
 */
export async function invokeHttp(
  // biome-ignore lint/suspicious/noExplicitAny: any HTTP function
  fn: HttpFunction<any, any>,
  request: HttpTestRequest,
  env: RuntimeEnv,
  options: InvokeHttpOptions = {},
): Promise<HttpTestResponse> {
  const app = createHttpApp({ functions: [fn], env, ...options });
  const headers = new Headers(request.headers);
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (request.body !== undefined) {
    const raw = typeof request.body === 'string' || request.body instanceof Uint8Array;
    body = raw ? (request.body as string | Uint8Array<ArrayBuffer>) : JSON.stringify(request.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const path = request.path ?? fillPath(fn.paths[0]!, request.params ?? {});
  const response = await app.request(path + queryString(request.query), {
    method: request.method ?? fn.method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: parseBody(text), headers: Object.fromEntries(response.headers) };
}

/** `/orders/:id` + `{ id: 'o 1' }` → `/orders/o%201`. Optional (`:id?`) and pattern (`:id{[0-9]+}`) segments too. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?(\?)?/g, (_match, name: string, _pattern, optional) => {
    const value = params[name];
    if (value === undefined) {
      if (optional) return '';
      throw new Error(`invokeHttp: missing params.${name} for path ${path}`);
    }
    return encodeURIComponent(value);
  });
}

function queryString(query: HttpTestRequest['query']): string {
  if (query === undefined) return '';
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const item of typeof value === 'string' ? [value] : value) search.append(name, item);
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
