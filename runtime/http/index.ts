/**
 * The HTTP binding (Hono): `createHttpApp` serves HTTP functions, `/healthz` and `/readyz`.
 * @module
 */
export { createHttpApp, DEFAULT_BODY_LIMIT, type HttpAppOptions, type Readiness } from './app.ts';
export type { ErrorBody } from './errors.ts';
export { CORRELATION_ID_HEADER, REQUEST_ID_HEADER } from './request-context.ts';
